//! Which top-level names a declaration mentions: the edges of the declaration graph.
//!
//! The walk over-approximates on purpose: every variable name anywhere in the declaration
//! (including those a local binding shadows, and the predicates of refinement types) counts
//! as a reference. An extra edge only delays a node; a missing one would let a declaration
//! be checked before a binding it uses. The walk keeps its own stack: source nesting is
//! limited (E1009) but deep enough to overflow a small thread stack if walked recursively.

use crate::syntax::ast::{self, ConstraintItemKind, Expr, ExprKind, Name, Type, TypeKind};

enum Item<'a> {
    Expr(&'a Expr),
    Type(&'a Type),
}

/// Every distinct name a `let` declaration mentions (its annotation and its value), in
/// order of first mention; worked out once per declaration and kept in it
/// ([`ast::Mentions`]): a session's next parse reuses the declaration, and with it this.
pub fn mentions(l: &ast::LetDecl) -> &[Name] {
    l.mentions.get_or_init(|| {
        let mut names: Vec<Name> = Vec::new();
        let mut seen: crate::hash::HashSet<Name> = crate::hash::HashSet::default();
        let mut add = |n: &Name| {
            // Most declarations mention a handful of names: a scan beats hashing them.
            let new = if names.len() < 16 {
                !names.contains(n)
            } else {
                if seen.is_empty() {
                    seen.extend(names.iter().cloned());
                }
                seen.insert(n.clone())
            };
            if new {
                names.push(n.clone());
            }
        };
        let mut stack = Vec::new();
        if let Some(ann) = &l.ann {
            walk_with(&mut stack, Item::Type(ann), &mut |n| add(n));
        }
        walk_with(&mut stack, Item::Expr(&l.value), &mut |n| add(n));
        names.into_boxed_slice()
    })
}

/// Calls `found` with every distinct name a `let` declaration mentions ([`mentions`]).
pub fn names_in_let<'a>(l: &'a ast::LetDecl, found: &mut impl FnMut(&'a Name)) {
    mentions(l).iter().for_each(found);
}

fn walk_with<'a>(stack: &mut Vec<Item<'a>>, start: Item<'a>, found: &mut impl FnMut(&'a Name)) {
    stack.push(start);
    while let Some(item) = stack.pop() {
        match item {
            Item::Expr(e) => match &e.kind {
                ExprKind::Var(name) => found(name),
                ExprKind::Int(_)
                | ExprKind::Float(_)
                | ExprKind::Str(_)
                | ExprKind::Bool(_)
                | ExprKind::Unit
                | ExprKind::Ctor(_)
                | ExprKind::Error => {}
                ExprKind::Lambda { params, body } => {
                    stack.extend(params.iter().filter_map(|p| p.ann.as_ref()).map(Item::Type));
                    stack.push(Item::Expr(body));
                }
                ExprKind::App { func, args } => {
                    stack.push(Item::Expr(func));
                    stack.extend(args.iter().map(Item::Expr));
                }
                ExprKind::Let {
                    ann, value, body, ..
                } => {
                    stack.extend(ann.as_deref().map(Item::Type));
                    stack.push(Item::Expr(value));
                    stack.push(Item::Expr(body));
                }
                ExprKind::If {
                    cond,
                    then_branch,
                    else_branch,
                } => {
                    stack.push(Item::Expr(cond));
                    stack.push(Item::Expr(then_branch));
                    stack.push(Item::Expr(else_branch));
                }
                ExprKind::Match { scrutinee, cases } => {
                    stack.push(Item::Expr(scrutinee));
                    for case in cases {
                        stack.extend(case.guard.iter().map(Item::Expr));
                        stack.push(Item::Expr(&case.body));
                    }
                }
                ExprKind::Binary { lhs, rhs, .. } => {
                    stack.push(Item::Expr(lhs));
                    stack.push(Item::Expr(rhs));
                }
                ExprKind::Unary { operand, .. } => stack.push(Item::Expr(operand)),
                ExprKind::Field { expr, .. } => stack.push(Item::Expr(expr)),
                ExprKind::Record { base, fields } => {
                    stack.extend(base.iter().map(|b| Item::Expr(b)));
                    stack.extend(fields.iter().map(|f| Item::Expr(&f.value)));
                }
                ExprKind::List(items) => stack.extend(items.iter().map(Item::Expr)),
                ExprKind::Ann { expr, ty } => {
                    stack.push(Item::Expr(expr));
                    stack.push(Item::Type(ty));
                }
            },
            Item::Type(t) => match &t.kind {
                TypeKind::Con(_, args) => stack.extend(args.iter().map(Item::Type)),
                TypeKind::Var(_) | TypeKind::Error => {}
                TypeKind::Fun(a, r) => {
                    stack.push(Item::Type(a));
                    stack.push(Item::Type(r));
                }
                TypeKind::List(t) => stack.push(Item::Type(t)),
                TypeKind::Record { fields, .. } => {
                    stack.extend(fields.iter().map(|f| Item::Type(&f.ty)));
                }
                TypeKind::Refined { base, items, pred } => {
                    stack.push(Item::Type(base));
                    for item in items {
                        match &item.kind {
                            ConstraintItemKind::Regexp(_) | ConstraintItemKind::Pattern(_) => {}
                            ConstraintItemKind::Ge(e) | ConstraintItemKind::Le(e) => {
                                stack.push(Item::Expr(e));
                            }
                            ConstraintItemKind::Call {
                                module, func, args, ..
                            } => {
                                if let Some(m) = module {
                                    found(&m.name);
                                }
                                found(&func.name);
                                stack.extend(args.iter().map(Item::Expr));
                            }
                        }
                    }
                    if let Some(p) = pred {
                        stack.push(Item::Expr(p));
                    }
                }
                TypeKind::Qualified { ty, .. } => stack.push(Item::Type(ty)),
            },
        }
    }
}
