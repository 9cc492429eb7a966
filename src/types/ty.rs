//! Types: the inference arena with union-find and levels, schemes, and printing.
//!
//! During the inference of one declaration every type lives in an [`Arena`] of nodes; a type
//! variable is a node that is either unbound (with a level for generalisation) or linked to
//! another node. Unification links nodes (union-find with path compression); binding a
//! variable walks the bound type once for the occurs check and to lower levels, so that
//! generalisation only looks at the binding's own type, never at the environment.
//! Finished declarations keep [`Scheme`]s: arena-free trees in which `Gen(i)` are the
//! quantified variables.

use std::sync::Arc;

use crate::hash::HashMap;

use crate::syntax::ast::Name;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TyId(pub u32);

#[derive(Clone, Debug)]
pub enum Node {
    /// An unknown; `rigid` for the variables of a `let x : T` annotation or an instance head.
    Var {
        level: u32,
        link: Option<TyId>,
        rigid: Option<Name>,
    },
    /// A named type applied to arguments: `Integer`, `List 'a`, `Option 'a`.
    Con {
        name: Name,
        args: Vec<TyId>,
    },
    Fun(TyId, TyId),
    /// A record; `tail` is `None` for a closed record, else the rest of the row.
    Record {
        fields: Vec<(Name, TyId)>,
        tail: Option<TyId>,
    },
    /// The type of something already reported: unifies with everything.
    Error,
}

/// An arena-free type of a scheme.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SType {
    Gen(u32),
    /// A monomorphic variable of the enclosing inference (only in local `let ... in` schemes).
    Free(TyId),
    /// A rigid variable, by name (only for printing types of messages).
    Rigid(Name),
    Con(Name, Vec<SType>),
    Fun(Box<SType>, Box<SType>),
    Record(Vec<(Name, SType)>, Option<Box<SType>>),
    Error,
}

/// A class constraint `Class T...`.
#[derive(Clone, Debug, PartialEq)]
pub struct Pred {
    pub class: Name,
    pub args: Vec<SType>,
}

/// `forall Gen(0..n_gen). constraints => ty`.
#[derive(Clone, Debug, PartialEq)]
pub struct Scheme {
    pub n_gen: u32,
    pub constraints: Vec<Pred>,
    pub ty: SType,
}

impl SType {
    /// Nodes of the tree (iteratively: schemes may be deep).
    pub fn size(&self) -> usize {
        self.nodes().count()
    }

    /// Every node of the tree, depth first, with an explicit stack (schemes may be deep).
    pub fn nodes(&self) -> impl Iterator<Item = &SType> {
        let mut stack = vec![self];
        std::iter::from_fn(move || {
            let t = stack.pop()?;
            match t {
                SType::Con(_, args) => stack.extend(args.iter()),
                SType::Fun(a, r) => {
                    stack.push(a);
                    stack.push(r);
                }
                SType::Record(fields, tail) => {
                    stack.extend(fields.iter().map(|(_, t)| t));
                    stack.extend(tail.as_deref());
                }
                SType::Gen(_) | SType::Free(_) | SType::Rigid(_) | SType::Error => {}
            }
            Some(t)
        })
    }
}

impl Scheme {
    pub fn mono(ty: SType) -> Scheme {
        Scheme {
            n_gen: 0,
            constraints: Vec::new(),
            ty,
        }
    }
}

/// Why two types do not unify.
#[derive(Clone, Debug)]
pub enum UnifyError {
    Mismatch,
    Occurs,
    MissingField(Name),
}

/// A record's fields and the end of its row (see [`Arena::flatten_record`]).
pub type FlatRecord = (Vec<(Name, TyId)>, Result<Option<TyId>, ()>);

/// The nodes of one inference. Ids below `base.len()` are nodes of a [`ClosedTypes`] base
/// shared by every let of a module (closed types only: no variable, never changed); the
/// others are this arena's own.
#[derive(Default)]
pub struct Arena<'b> {
    base: &'b [Node],
    nodes: Vec<Node>,
    /// By own node: found by an occurs check to hold no variable, once resolved. A type
    /// without variables never changes, so the next check skips it: binding variables to
    /// parts of one deep type (`[[[x]]]` against a 10,000-deep list) walks it once in all,
    /// not once per binding. Shorter than `nodes` (unset) for the nodes pushed since.
    ground: Vec<bool>,
}

impl<'b> Arena<'b> {
    /// An arena with room for `n` nodes (one per checked declaration: a typical binding
    /// needs a few dozen, and growing from empty costs several reallocations each time).
    pub fn with_capacity(n: usize) -> Arena<'static> {
        Arena {
            base: &[],
            nodes: Vec::with_capacity(n),
            ground: Vec::new(),
        }
    }

    /// This (empty) arena over the closed types of `base`: their ids are valid here. Its
    /// room for nodes is kept.
    pub fn over<'c>(self, base: &'c ClosedTypes) -> Arena<'c> {
        debug_assert!(
            self.nodes.is_empty(),
            "an arena gets its base before any node"
        );
        Arena {
            base: &base.arena.nodes,
            nodes: self.nodes,
            ground: self.ground,
        }
    }

    /// Whether `id` is a node of the base (a closed type: nothing in it can change).
    pub fn in_base(&self, id: TyId) -> bool {
        (id.0 as usize) < self.base.len()
    }

    pub fn push(&mut self, node: Node) -> TyId {
        let id = TyId((self.base.len() + self.nodes.len()) as u32);
        self.nodes.push(node);
        id
    }

    pub fn fresh(&mut self, level: u32) -> TyId {
        self.push(Node::Var {
            level,
            link: None,
            rigid: None,
        })
    }

    pub fn rigid(&mut self, level: u32, name: Name) -> TyId {
        self.push(Node::Var {
            level,
            link: None,
            rigid: Some(name),
        })
    }

    pub fn con(&mut self, name: &str, args: Vec<TyId>) -> TyId {
        self.push(Node::Con {
            name: Name::new(name),
            args,
        })
    }

    pub fn error(&mut self) -> TyId {
        self.push(Node::Error)
    }

    pub fn node(&self, id: TyId) -> &Node {
        // Ids are only created by this arena and its base, so they are in range.
        let i = id.0 as usize;
        match self.base.get(i) {
            Some(node) => node,
            None => &self.nodes[i - self.base.len()],
        }
    }

    /// A node of this arena's own; never one of the base (callers change only variables,
    /// and the base has none).
    fn node_mut(&mut self, id: TyId) -> &mut Node {
        &mut self.nodes[id.0 as usize - self.base.len()]
    }

    /// The representative of `id`, with path compression.
    pub fn find(&mut self, id: TyId) -> TyId {
        let mut root = id;
        while let Node::Var {
            link: Some(next), ..
        } = self.node(root)
        {
            root = *next;
        }
        let mut cur = id;
        while let Node::Var {
            link: Some(next), ..
        } = self.node(cur)
        {
            let next = *next;
            if let Node::Var { link, .. } = self.node_mut(cur) {
                *link = Some(root);
            }
            cur = next;
        }
        root
    }

    pub fn is_con(&mut self, id: TyId, name: &str) -> bool {
        let id = self.find(id);
        matches!(self.node(id), Node::Con { name: n, .. } if n == name)
    }

    /// The fields of a record, following its row, and the row's end: `Ok(None)` closed,
    /// `Ok(Some(var))` open, `Err(())` an error node.
    pub fn flatten_record(&mut self, id: TyId) -> FlatRecord {
        let mut fields = Vec::new();
        let mut cur = self.find(id);
        loop {
            match self.node(cur).clone() {
                Node::Record { fields: fs, tail } => {
                    fields.extend(fs);
                    match tail {
                        None => return (fields, Ok(None)),
                        Some(t) => cur = self.find(t),
                    }
                }
                Node::Var { .. } => return (fields, Ok(Some(cur))),
                _ => return (fields, Err(())),
            }
        }
    }

    pub fn unify(&mut self, a: TyId, b: TyId) -> Result<(), UnifyError> {
        let a = self.find(a);
        let b = self.find(b);
        if a == b {
            return Ok(());
        }
        #[derive(Clone, Copy, PartialEq)]
        enum K {
            Flex,
            Rigid,
            Con,
            Fun,
            Record,
            Error,
        }
        let kind = |n: &Node| match n {
            Node::Var { rigid: None, .. } => K::Flex,
            Node::Var { .. } => K::Rigid,
            Node::Con { .. } => K::Con,
            Node::Fun(..) => K::Fun,
            Node::Record { .. } => K::Record,
            Node::Error => K::Error,
        };
        let (ka, kb) = (kind(self.node(a)), kind(self.node(b)));
        match (ka, kb) {
            (K::Error, _) | (_, K::Error) => Ok(()),
            (K::Flex, _) => self.bind(a, b),
            (_, K::Flex) => self.bind(b, a),
            (K::Con, K::Con) => {
                let n = match (self.node(a), self.node(b)) {
                    (Node::Con { name: na, args: aa }, Node::Con { name: nb, args: ab }) => {
                        if na != nb || aa.len() != ab.len() {
                            return Err(UnifyError::Mismatch);
                        }
                        aa.len()
                    }
                    _ => return Err(UnifyError::Mismatch),
                };
                for i in 0..n {
                    let pair = match (self.node(a), self.node(b)) {
                        (Node::Con { args: aa, .. }, Node::Con { args: ab, .. }) => {
                            aa.get(i).zip(ab.get(i)).map(|(x, y)| (*x, *y))
                        }
                        _ => None,
                    };
                    if let Some((x, y)) = pair {
                        self.unify(x, y)?;
                    }
                }
                Ok(())
            }
            (K::Fun, K::Fun) => {
                let (a1, r1, a2, r2) = match (self.node(a), self.node(b)) {
                    (Node::Fun(a1, r1), Node::Fun(a2, r2)) => (*a1, *r1, *a2, *r2),
                    _ => return Err(UnifyError::Mismatch),
                };
                self.unify(a1, a2)?;
                self.unify(r1, r2)
            }
            (K::Record, K::Record) => self.unify_records(a, b),
            _ => Err(UnifyError::Mismatch),
        }
    }

    fn unify_records(&mut self, a: TyId, b: TyId) -> Result<(), UnifyError> {
        let (fa, ta) = self.flatten_record(a);
        let (fb, tb) = self.flatten_record(b);
        let mut only_a = Vec::new();
        for (name, ty) in &fa {
            match fb.iter().find(|(n, _)| n == name) {
                Some((_, other)) => self.unify(*ty, *other)?,
                None => only_a.push((name.clone(), *ty)),
            }
        }
        let only_b: Vec<(Name, TyId)> = fb
            .iter()
            .filter(|(n, _)| !fa.iter().any(|(m, _)| m == n))
            .cloned()
            .collect();
        let (ta, tb) = match (ta, tb) {
            (Err(()), _) | (_, Err(())) => return Ok(()),
            (Ok(x), Ok(y)) => (x, y),
        };
        match (ta, tb) {
            (None, None) => {
                if let Some((name, _)) = only_a.first().or(only_b.first()) {
                    return Err(UnifyError::MissingField(name.clone()));
                }
                Ok(())
            }
            (Some(ra), None) => {
                if let Some((name, _)) = only_a.first() {
                    return Err(UnifyError::MissingField(name.clone()));
                }
                let rest = self.push(Node::Record {
                    fields: only_b,
                    tail: None,
                });
                self.bind_any(ra, rest)
            }
            (None, Some(rb)) => {
                if let Some((name, _)) = only_b.first() {
                    return Err(UnifyError::MissingField(name.clone()));
                }
                let rest = self.push(Node::Record {
                    fields: only_a,
                    tail: None,
                });
                self.bind_any(rb, rest)
            }
            (Some(ra), Some(rb)) => {
                if ra == rb {
                    if let Some((name, _)) = only_a.first().or(only_b.first()) {
                        return Err(UnifyError::MissingField(name.clone()));
                    }
                    return Ok(());
                }
                if only_a.is_empty() && only_b.is_empty() {
                    return self.unify(ra, rb);
                }
                let level = self.level_of(ra).min(self.level_of(rb));
                let r = self.fresh(level);
                let rest_b = self.push(Node::Record {
                    fields: only_b,
                    tail: Some(r),
                });
                self.bind_any(ra, rest_b)?;
                let rest_a = self.push(Node::Record {
                    fields: only_a,
                    tail: Some(r),
                });
                self.bind_any(rb, rest_a)
            }
        }
    }

    fn level_of(&self, id: TyId) -> u32 {
        match self.node(id) {
            Node::Var { level, .. } => *level,
            _ => u32::MAX,
        }
    }

    /// Whether `id` (resolved) is known to hold no variable: a node of the closed base, or
    /// one an occurs check found ground.
    fn is_ground(&self, id: TyId) -> bool {
        self.in_base(id)
            || self
                .ground
                .get(id.0 as usize - self.base.len())
                .copied()
                .unwrap_or(false)
    }

    /// Whether every part of the compound node `id` is ground (after resolving it).
    fn parts_ground(&mut self, id: TyId) -> bool {
        let parts: Vec<TyId> = match self.node(id) {
            Node::Con { args, .. } => args.clone(),
            Node::Fun(a, r) => vec![*a, *r],
            Node::Record { fields, tail } => fields
                .iter()
                .map(|(_, it)| *it)
                .chain(tail.iter().copied())
                .collect(),
            Node::Var { .. } => return false,
            Node::Error => Vec::new(),
        };
        parts.into_iter().all(|it| {
            let it = self.find(it);
            self.is_ground(it)
        })
    }

    fn mark_ground(&mut self, id: TyId) {
        let i = id.0 as usize - self.base.len();
        if self.ground.len() <= i {
            self.ground.resize(i + 1, false);
        }
        if let Some(slot) = self.ground.get_mut(i) {
            *slot = true;
        }
    }

    /// Binds a row variable (rigid row variables cannot grow).
    fn bind_any(&mut self, var: TyId, to: TyId) -> Result<(), UnifyError> {
        match self.node(var) {
            Node::Var { rigid: None, .. } => self.bind(var, to),
            _ => {
                // A rigid row: only the empty extension is allowed.
                let (fields, _) = self.flatten_record(to);
                match fields.first() {
                    Some((name, _)) => Err(UnifyError::MissingField(name.clone())),
                    None => Ok(()),
                }
            }
        }
    }

    /// Binds the unbound flexible variable `var` to `to` after the occurs check, lowering
    /// the levels of the variables of `to` to `var`'s level.
    fn bind(&mut self, var: TyId, to: TyId) -> Result<(), UnifyError> {
        let level = self.level_of(var);
        // Depth first; a compound node is seen again (`true`) after its parts, and marked
        // ground when they all are.
        let mut stack = vec![(to, false)];
        while let Some((t, parts_done)) = stack.pop() {
            let t = self.find(t);
            if t == var {
                return Err(UnifyError::Occurs);
            }
            if self.is_ground(t) {
                // A closed type: no variable to lower, `var` cannot occur in it.
                continue;
            }
            if parts_done {
                if self.parts_ground(t) {
                    self.mark_ground(t);
                }
                continue;
            }
            match self.node_mut(t) {
                Node::Var {
                    level: l, rigid, ..
                } => {
                    if *l > level {
                        if rigid.is_some() {
                            // A rigid variable would escape its annotation.
                            return Err(UnifyError::Mismatch);
                        }
                        *l = level;
                    }
                }
                Node::Con { args, .. } => {
                    let parts = args.iter().map(|it| (*it, false));
                    stack.push((t, true));
                    stack.extend(parts);
                }
                Node::Fun(a, r) => {
                    let (a, r) = (*a, *r);
                    stack.extend([(t, true), (a, false), (r, false)]);
                }
                Node::Record { fields, tail } => {
                    let parts = fields.iter().map(|(_, it)| (*it, false));
                    let tail = tail.iter().map(|it| (*it, false));
                    let parts: Vec<_> = parts.chain(tail).collect();
                    stack.push((t, true));
                    stack.extend(parts);
                }
                Node::Error => {}
            }
        }
        if let Node::Var { link, .. } = self.node_mut(var) {
            *link = Some(to);
        }
        Ok(())
    }

    /// Builds arena nodes for a scheme type, with `gens[i]` for `Gen(i)`.
    pub fn instantiate(&mut self, ty: &SType, gens: &[TyId]) -> TyId {
        match ty {
            SType::Gen(i) => match gens.get(*i as usize) {
                Some(t) => *t,
                None => self.error(),
            },
            SType::Free(t) => *t,
            SType::Rigid(_) | SType::Error => self.error(),
            SType::Con(name, args) => {
                let args = args.iter().map(|a| self.instantiate(a, gens)).collect();
                self.push(Node::Con {
                    name: name.clone(),
                    args,
                })
            }
            SType::Fun(a, r) => {
                let a = self.instantiate(a, gens);
                let r = self.instantiate(r, gens);
                self.push(Node::Fun(a, r))
            }
            SType::Record(fields, tail) => {
                let fields = fields
                    .iter()
                    .map(|(n, t)| (n.clone(), self.instantiate(t, gens)))
                    .collect();
                let tail = tail.as_ref().map(|t| self.instantiate(t, gens));
                self.push(Node::Record { fields, tail })
            }
        }
    }

    /// Converts an arena type to a scheme type: variables whose level is above `level` become
    /// `Gen` (numbered in order of first appearance through `gens`), the others `Free`.
    /// With `level == u32::MAX` nothing is generalised except through `gens` entries already
    /// present; rigid variables above `level` are generalised too.
    pub fn export(&mut self, id: TyId, level: u32, gens: &mut Vec<TyId>) -> SType {
        let mut budget = usize::MAX;
        self.export_ref(id, level, gens, &mut budget)
    }

    /// [`Arena::export`] of at most `budget` nodes: `None` when the tree is bigger. The
    /// arena shares subtrees, a scheme is a tree: `let a1 = { l = a0, r = a0 }` doubles
    /// with every such let, so an unbounded export is exponential in the source.
    pub fn export_bounded(
        &mut self,
        id: TyId,
        level: u32,
        gens: &mut Vec<TyId>,
        budget: usize,
    ) -> Option<SType> {
        // One more than allowed: a tree of exactly `budget` nodes leaves one.
        let mut left = budget.saturating_add(1);
        let ty = self.export_ref(id, level, gens, &mut left);
        (left > 0).then_some(ty)
    }

    /// The representative of `id` without path compression (for read-only walks).
    fn resolve(&self, mut id: TyId) -> TyId {
        while let Node::Var {
            link: Some(next), ..
        } = self.node(id)
        {
            id = *next;
        }
        id
    }

    /// [`Arena::export`] by reference: no node is cloned (every let's scheme is exported, so
    /// this is on the checker's hot path).
    fn export_ref(&self, id: TyId, level: u32, gens: &mut Vec<TyId>, budget: &mut usize) -> SType {
        if *budget == 0 {
            return SType::Error;
        }
        *budget -= 1;
        let id = self.resolve(id);
        match self.node(id) {
            Node::Var { level: l, .. } => {
                if let Some(i) = gens.iter().position(|g| *g == id) {
                    return SType::Gen(i as u32);
                }
                if *l > level {
                    gens.push(id);
                    SType::Gen((gens.len() - 1) as u32)
                } else {
                    SType::Free(id)
                }
            }
            Node::Con { name, args } => SType::Con(
                name.clone(),
                args.iter()
                    .map(|a| self.export_ref(*a, level, gens, budget))
                    .collect(),
            ),
            Node::Fun(a, r) => {
                let a = self.export_ref(*a, level, gens, budget);
                let r = self.export_ref(*r, level, gens, budget);
                SType::Fun(Box::new(a), Box::new(r))
            }
            Node::Record { .. } => {
                // The fields of the whole row first, then the tail (as `flatten_record`).
                let mut parts: Vec<&[(Name, TyId)]> = Vec::new();
                let mut cur = id;
                let tail = loop {
                    match self.node(cur) {
                        Node::Record { fields, tail } => {
                            parts.push(fields);
                            match tail {
                                None => break Ok(None),
                                Some(t) => cur = self.resolve(*t),
                            }
                        }
                        Node::Var { .. } => break Ok(Some(cur)),
                        _ => break Err(()),
                    }
                };
                let fields = parts
                    .iter()
                    .flat_map(|part| part.iter())
                    .map(|(n, t)| (n.clone(), self.export_ref(*t, level, gens, budget)))
                    .collect();
                let tail = match tail {
                    Ok(None) => None,
                    Ok(Some(v)) => Some(Box::new(self.export_ref(v, level, gens, budget))),
                    Err(()) => Some(Box::new(SType::Error)),
                };
                SType::Record(fields, tail)
            }
            Node::Error => SType::Error,
        }
    }

    /// Whether `id` is, with no variable left, the closed type `ty`: what [`Arena::export`]
    /// would build, without building it. `ty` holding a variable of any kind (or an open
    /// row) answers `false`. Runs of bindings of one type are common in configurations (a
    /// list of services); comparing with the previous binding's scheme lets them share it
    /// instead of each writing its own tree out.
    pub fn is_exactly(&self, id: TyId, ty: &SType) -> bool {
        let mut stack = vec![(id, ty)];
        while let Some((id, ty)) = stack.pop() {
            let id = self.resolve(id);
            match (self.node(id), ty) {
                (Node::Con { name, args }, SType::Con(n, a)) => {
                    if name != n || args.len() != a.len() {
                        return false;
                    }
                    stack.extend(args.iter().copied().zip(a.iter()));
                }
                (Node::Fun(a, r), SType::Fun(sa, sr)) => {
                    stack.push((*a, &**sa));
                    stack.push((*r, &**sr));
                }
                (Node::Record { .. }, SType::Record(want, None)) => {
                    // The fields of the whole row in order, as `export_ref` writes them.
                    let mut want = want.iter();
                    let mut cur = id;
                    loop {
                        match self.node(cur) {
                            Node::Record { fields, tail } => {
                                for (name, t) in fields {
                                    match want.next() {
                                        Some((n, st)) if n == name => stack.push((*t, st)),
                                        _ => return false,
                                    }
                                }
                                match tail {
                                    None => break,
                                    Some(t) => cur = self.resolve(*t),
                                }
                            }
                            _ => return false,
                        }
                    }
                    if want.next().is_some() {
                        return false;
                    }
                }
                (Node::Error, SType::Error) => {}
                _ => return false,
            }
        }
        true
    }

    /// A scheme type for printing in messages: every variable is named, rigid ones by their
    /// source name.
    pub fn to_display(&mut self, id: TyId, gens: &mut Vec<TyId>) -> SType {
        let id = self.find(id);
        match self.node(id).clone() {
            Node::Var {
                rigid: Some(name), ..
            } => SType::Rigid(name),
            Node::Var { .. } => {
                if let Some(i) = gens.iter().position(|g| *g == id) {
                    return SType::Gen(i as u32);
                }
                gens.push(id);
                SType::Gen((gens.len() - 1) as u32)
            }
            Node::Con { name, args } => SType::Con(
                name,
                args.iter().map(|a| self.to_display(*a, gens)).collect(),
            ),
            Node::Fun(a, r) => {
                let a = self.to_display(a, gens);
                let r = self.to_display(r, gens);
                SType::Fun(Box::new(a), Box::new(r))
            }
            Node::Record { .. } => {
                let (fields, tail) = self.flatten_record(id);
                let fields = fields
                    .into_iter()
                    .map(|(n, t)| (n, self.to_display(t, gens)))
                    .collect();
                let tail = match tail {
                    Ok(None) => None,
                    Ok(Some(v)) => Some(Box::new(self.to_display(v, gens))),
                    Err(()) => Some(Box::new(SType::Error)),
                };
                SType::Record(fields, tail)
            }
            Node::Error => SType::Error,
        }
    }

    /// True if the type contains a function type (for `==`, LANGUAGE.md section 6.6).
    pub fn contains_function(&mut self, id: TyId) -> bool {
        let mut stack = vec![id];
        let mut seen = 0usize;
        while let Some(t) = stack.pop() {
            seen += 1;
            if seen > 1_000_000 {
                return false;
            }
            let t = self.find(t);
            match self.node(t) {
                Node::Fun(..) => return true,
                Node::Con { args, .. } => stack.extend(args.iter().copied()),
                Node::Record { fields, tail } => {
                    stack.extend(fields.iter().map(|(_, t)| *t));
                    stack.extend(tail.iter().copied());
                }
                Node::Var { .. } | Node::Error => {}
            }
        }
        false
    }
}

/// The closed schemes of top-level values (no quantified variable, no constraint), each
/// instantiated once per module and shared by the inference of every later `let`: ids of
/// [`Arena::over`]. A closed type has no variable, so unification never changes its nodes
/// (it only binds the other side's variables), and a run of lets that all apply one
/// function (`let sI = mk I "wI";`) no longer builds its type's nodes once each. Filled
/// between lets, in source order ([`ClosedTypes::add`]); a let checked on the pool sees
/// what the lets before its run added, which changes ids only, never a type.
pub struct ClosedTypes {
    /// Nodes at most: past them, further schemes are instantiated by each let as before.
    max_nodes: usize,
    arena: Arena<'static>,
    /// By scheme address; the scheme is held, so that its address is not reused.
    by_scheme: HashMap<usize, (Arc<Scheme>, TyId)>,
    /// The last base type found to be exactly a scheme (see [`ClosedTypes::is_exactly`]).
    exact: Option<(TyId, Arc<Scheme>)>,
}

impl Default for ClosedTypes {
    fn default() -> ClosedTypes {
        ClosedTypes::at_most(1 << 20)
    }
}

impl ClosedTypes {
    /// A base of at most `max_nodes` nodes (0: none, every let instantiates for itself).
    pub fn at_most(max_nodes: usize) -> ClosedTypes {
        ClosedTypes {
            max_nodes,
            arena: Arena::default(),
            by_scheme: HashMap::default(),
            exact: None,
        }
    }

    /// The base type of `scheme`, if added.
    pub fn get(&self, scheme: &Arc<Scheme>) -> Option<TyId> {
        self.by_scheme
            .get(&(Arc::as_ptr(scheme) as usize))
            .map(|(_, t)| *t)
    }

    /// Adds a closed scheme (a top-level value's) if it is one, is new and fits.
    fn add(&mut self, scheme: &Arc<Scheme>) {
        let key = Arc::as_ptr(scheme) as usize;
        let closed = scheme.n_gen == 0 && scheme.constraints.is_empty() && is_ground(&scheme.ty);
        if !closed || self.by_scheme.contains_key(&key) {
            return;
        }
        if self.arena.nodes.len() + scheme.ty.size() > self.max_nodes {
            return;
        }
        let t = self.arena.instantiate(&scheme.ty, &[]);
        self.by_scheme.insert(key, (scheme.clone(), t));
    }

    /// Adds what an inference over this base learnt (between lets, in source order);
    /// `scheme` gives a top-level value's scheme by name.
    pub fn learn<'s>(
        &mut self,
        found: ClosedFindings,
        scheme: impl Fn(&Name) -> Option<&'s Arc<Scheme>>,
    ) {
        for (name, key) in &found.wanted {
            // The scheme the inference used, if the name still has it.
            if let Some(s) = scheme(name).filter(|s| Arc::as_ptr(s) as usize == *key) {
                self.add(s);
            }
        }
        if let Some((id, scheme)) = found.exact {
            self.remember_exact(id, scheme);
        }
    }

    /// Whether the base type `id` is known to be exactly `scheme`'s type (the last such
    /// finding is kept: a run of lets of one type asks the same question each time).
    pub fn is_exactly(&self, id: TyId, scheme: &Arc<Scheme>) -> bool {
        self.exact
            .as_ref()
            .is_some_and(|(t, s)| *t == id && Arc::ptr_eq(s, scheme))
    }

    /// Remembers that the base type `id` is exactly `scheme`'s type.
    pub fn remember_exact(&mut self, id: TyId, scheme: Arc<Scheme>) {
        if (id.0 as usize) < self.arena.nodes.len() {
            self.exact = Some((id, scheme));
        }
    }
}

/// What one inference over a [`ClosedTypes`] base learnt for it.
#[derive(Debug, Default)]
pub struct ClosedFindings {
    /// Closed top-level schemes the inference instantiated itself, not being in the base:
    /// the value's name (qualified as in the environment) and the scheme's address.
    pub wanted: Vec<(Name, usize)>,
    /// A base type found exactly equal to a scheme.
    pub exact: Option<(TyId, Arc<Scheme>)>,
}

/// Whether a scheme type has no variable of any kind.
fn is_ground(ty: &SType) -> bool {
    ty.nodes()
        .all(|t| !matches!(t, SType::Gen(_) | SType::Free(_) | SType::Rigid(_)))
}

// ---------------------------------------------------------------- printing

/// Names `Gen` variables `'a`, `'b`, ... in order of first appearance, skipping the names
/// of rigid variables shown in the same message.
#[derive(Clone, Default)]
pub struct Namer {
    names: HashMap<u32, String>,
    reserved: Vec<String>,
    next: usize,
}

impl Namer {
    fn name(&mut self, gen: u32) -> String {
        if let Some(n) = self.names.get(&gen) {
            return n.clone();
        }
        let name = loop {
            let candidate = var_name(self.next);
            self.next += 1;
            if !self.reserved.contains(&candidate) {
                break candidate;
            }
        };
        self.names.insert(gen, name.clone());
        name
    }

    /// Keeps the names of the rigid variables of `ty` for themselves.
    pub fn reserve_rigid(&mut self, ty: &SType) {
        match ty {
            SType::Rigid(n) => self.reserved.push(format!("'{n}")),
            SType::Con(_, args) => args.iter().for_each(|a| self.reserve_rigid(a)),
            SType::Fun(a, r) => {
                self.reserve_rigid(a);
                self.reserve_rigid(r);
            }
            SType::Record(fields, tail) => {
                fields.iter().for_each(|(_, t)| self.reserve_rigid(t));
                if let Some(t) = tail {
                    self.reserve_rigid(t);
                }
            }
            SType::Gen(_) | SType::Free(_) | SType::Error => {}
        }
    }

    /// Assigns names to the variables of `ty` in order of appearance, without printing.
    pub fn visit(&mut self, ty: &SType) {
        match ty {
            SType::Gen(i) => {
                self.name(*i);
            }
            SType::Con(_, args) => args.iter().for_each(|a| self.visit(a)),
            SType::Fun(a, r) => {
                self.visit(a);
                self.visit(r);
            }
            SType::Record(fields, tail) => {
                fields.iter().for_each(|(_, t)| self.visit(t));
                if let Some(t) = tail {
                    self.visit(t);
                }
            }
            SType::Free(_) | SType::Rigid(_) | SType::Error => {}
        }
    }
}

fn var_name(n: usize) -> String {
    let letter = (b'a' + (n % 26) as u8) as char;
    if n < 26 {
        format!("'{letter}")
    } else {
        format!("'{letter}{}", n / 26)
    }
}

/// Prints a type: functions right-associative, applications and functions parenthesised as
/// arguments, records `{ a: T, b: U | 'r }`.
pub fn print_type(ty: &SType, namer: &mut Namer) -> String {
    let mut out = String::new();
    write_type(ty, namer, &mut out, Prec::Top);
    out
}

#[derive(Clone, Copy, PartialEq, PartialOrd)]
enum Prec {
    Top,
    FunLeft,
    Arg,
}

fn write_type(ty: &SType, namer: &mut Namer, out: &mut String, prec: Prec) {
    match ty {
        SType::Gen(i) => out.push_str(&namer.name(*i)),
        SType::Free(_) => out.push('_'),
        SType::Rigid(name) => {
            out.push('\'');
            out.push_str(name);
        }
        SType::Error => out.push('?'),
        SType::Con(name, args) => {
            let name = super::env::display_name(name);
            if args.is_empty() {
                out.push_str(name);
            } else {
                if prec >= Prec::Arg {
                    out.push('(');
                }
                out.push_str(name);
                for a in args {
                    out.push(' ');
                    write_type(a, namer, out, Prec::Arg);
                }
                if prec >= Prec::Arg {
                    out.push(')');
                }
            }
        }
        SType::Fun(a, r) => {
            if prec >= Prec::FunLeft {
                out.push('(');
            }
            write_type(a, namer, out, Prec::FunLeft);
            out.push_str(" -> ");
            write_type(r, namer, out, Prec::Top);
            if prec >= Prec::FunLeft {
                out.push(')');
            }
        }
        SType::Record(fields, tail) => {
            if fields.is_empty() && tail.is_none() {
                out.push_str("{}");
                return;
            }
            out.push('{');
            for (i, (name, t)) in fields.iter().enumerate() {
                out.push_str(if i == 0 { " " } else { ", " });
                out.push_str(name);
                out.push_str(": ");
                write_type(t, namer, out, Prec::Top);
            }
            if let Some(t) = tail {
                out.push_str(" | ");
                write_type(t, namer, out, Prec::Top);
            }
            out.push_str(" }");
        }
    }
}

/// Prints a scheme: `C 'a => T`, or `(C 'a, D 'b) => T` for several constraints; variables
/// are named in order of first appearance in `T`.
pub fn print_scheme(scheme: &Scheme) -> String {
    print_scheme_with(scheme, Namer::default())
}

/// [`print_scheme`] with `namer`'s reserved names kept for rigid variables.
pub fn print_scheme_with(scheme: &Scheme, mut namer: Namer) -> String {
    namer.visit(&scheme.ty);
    let mut out = String::new();
    if !scheme.constraints.is_empty() {
        let parts: Vec<String> = scheme
            .constraints
            .iter()
            .map(|p| print_pred(p, &mut namer))
            .collect();
        if parts.len() == 1 {
            out.push_str(&parts[0]);
        } else {
            out.push('(');
            out.push_str(&parts.join(", "));
            out.push(')');
        }
        out.push_str(" => ");
    }
    write_type(&scheme.ty, &mut namer, &mut out, Prec::Top);
    out
}

pub fn print_pred(pred: &Pred, namer: &mut Namer) -> String {
    let mut out = pred.class.to_string();
    for a in &pred.args {
        out.push(' ');
        write_type(a, namer, &mut out, Prec::Arg);
    }
    out
}
