//! A module's checked results in its persistent entry: what its importers check against
//! (its [`Interface`]) and what lowering it needs (its [`Checked`]: the elaboration, the
//! bindings), so that a run whose entry for the module is valid does not check it again.
//!
//! Both name unions, classes, instances and imported declarations by [`FileId`]. An entry
//! is only read back under the module key it was written for, and that key covers the file
//! id of the module and of every module it imports, transitively (`modules::module_keys`):
//! every id stored here is one of those, so a run that numbers the files differently finds
//! no entry rather than a wrong one (`tests/cache_identity.rs`).
//!
//! Types and dictionary expressions are written as flat postfix node lists, like the rest
//! of the entry, so that decoding any bytes never recurses.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{decode_types, type_nodes, TypeNode};
use crate::hash::HashMap;
use crate::source::FileId;
use crate::syntax::ast::{ExprId, Name};
use crate::types::elab::{DictExpr, Elaboration, InstanceRef};
use crate::types::env::{
    ClassInfo, CtorInfo, DefId, InstanceInfo, MethodInfo, Origin, TypeDef, ValueInfo,
};
use crate::types::imports::Interface;
use crate::types::ty::{Pred, SType, Scheme};
use crate::types::{BindingInfo, Checked};

/// A module's checked results as stored. Written only for a module whose check had no
/// diagnostic at all (warnings are printed by every run, so a module with one is checked).
#[derive(Debug, Serialize, Deserialize)]
pub struct StoredCheck {
    bindings: Vec<(String, u32, String, bool)>,
    body_type: Option<String>,
    /// `uses`: the expression and its dictionaries (a count, then their nodes in `dicts`).
    uses: Vec<(u32, u32)>,
    params: Vec<(u32, u32)>,
    instance_supers: Vec<(u32, u32)>,
    dicts: Vec<DictNode>,
    interface: InterfaceDto,
}

#[derive(Debug, Serialize, Deserialize)]
enum DictNode {
    /// An instance and its number of argument dictionaries (the ones before it).
    Instance(u32, u32, u32),
    Param(u32, u32),
    Context(u32),
    SelfDict,
    /// The superclass `index` of the dictionary before it.
    Super(u32),
}

#[derive(Debug, Serialize, Deserialize)]
struct InterfaceDto {
    module: Option<u32>,
    key: String,
    values: Vec<(String, SchemeDto, OriginDto, String)>,
    types: Vec<(String, TypeDefDto, DefIdDto)>,
    ctors: Vec<(String, CtorDto, DefIdDto)>,
    classes: Vec<(String, ClassDto, DefIdDto)>,
    instances: Vec<InstanceDto>,
}

/// Types as one postfix list of `count` trees.
#[derive(Debug, Serialize, Deserialize)]
struct TypesDto {
    count: u32,
    nodes: Vec<TypeNode>,
}

#[derive(Debug, Serialize, Deserialize)]
struct SchemeDto {
    n_gen: u32,
    constraints: Vec<PredDto>,
    ty: TypesDto,
}

#[derive(Debug, Serialize, Deserialize)]
struct PredDto {
    class: String,
    args: TypesDto,
}

#[derive(Debug, Serialize, Deserialize)]
enum OriginDto {
    Prelude,
    Decl(u32),
    Method(String, u32),
    Global(u32, u32),
}

#[derive(Debug, Serialize, Deserialize)]
enum TypeDefDto {
    Builtin(u32),
    Union(u32, Vec<String>, String),
    Alias(u32, TypesDto, Option<String>),
}

type DefIdDto = (Option<u32>, String);

#[derive(Debug, Serialize, Deserialize)]
struct CtorDto {
    ty: String,
    n_params: u32,
    payload: Option<TypesDto>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ClassDto {
    name: String,
    n_params: u32,
    supers: Vec<PredDto>,
    methods: Vec<(String, SchemeDto, bool)>,
    builtin: bool,
}

#[derive(Debug, Serialize, Deserialize)]
struct InstanceDto {
    class: String,
    iref: (u32, u32),
    n_vars: u32,
    head: TypesDto,
    context: Vec<PredDto>,
}

/// The stored form of a module's check, which the caller knows was clean (the check's
/// diagnostics have gone to the run's), or `None` when part of it is too big to write out
/// (the module is then checked by the next run).
pub fn store(checked: &Checked, interface: &Interface) -> Option<StoredCheck> {
    let mut dicts = Vec::new();
    let list = |list: &[DictExpr], dicts: &mut Vec<DictNode>| -> Option<u32> {
        for dict in list {
            dict_nodes(dict, dicts)?;
        }
        u32::try_from(list.len()).ok()
    };
    let elab = &checked.elaboration;
    let mut uses = Vec::with_capacity(elab.uses.len());
    for (id, list_of) in sorted(&elab.uses, |id| id.0) {
        uses.push((id, list(list_of, &mut dicts)?));
    }
    let mut instance_supers = Vec::with_capacity(elab.instance_supers.len());
    for (decl, list_of) in sorted(&elab.instance_supers, |decl| *decl) {
        instance_supers.push((decl, list(list_of, &mut dicts)?));
    }
    let mut params: Vec<(u32, u32)> = elab.params.iter().map(|(id, n)| (id.0, *n)).collect();
    params.sort_unstable();
    Some(StoredCheck {
        bindings: checked
            .bindings
            .iter()
            .map(|it| {
                (
                    it.name.to_string(),
                    it.decl,
                    it.scheme.to_string(),
                    it.in_document,
                )
            })
            .collect(),
        body_type: checked.body_type.clone(),
        uses,
        params,
        instance_supers,
        dicts,
        interface: interface_dto(interface)?,
    })
}

/// The elaboration's maps in a fixed order (the bytes of an entry then depend only on
/// what it holds).
fn sorted<K, V>(map: &HashMap<K, V>, key: impl Fn(&K) -> u32) -> Vec<(u32, &V)> {
    let mut out: Vec<(u32, &V)> = map.iter().map(|(k, v)| (key(k), v)).collect();
    out.sort_unstable_by_key(|it| it.0);
    out
}

/// The checked module and its interface back, or `None` for a malformed one.
pub fn load(stored: &StoredCheck) -> Option<(Checked, Interface)> {
    let mut dicts = decode_dicts(&stored.dicts)?.into_iter();
    let mut take = |n: u32| -> Option<Vec<DictExpr>> {
        let list: Vec<DictExpr> = dicts.by_ref().take(n as usize).collect();
        (list.len() == n as usize).then_some(list)
    };
    let mut elaboration = Elaboration::default();
    for (id, n) in &stored.uses {
        elaboration.uses.insert(ExprId(*id), take(*n)?);
    }
    for (decl, n) in &stored.instance_supers {
        elaboration.instance_supers.insert(*decl, take(*n)?);
    }
    if dicts.next().is_some() {
        return None;
    }
    elaboration.params = stored
        .params
        .iter()
        .map(|(id, n)| (ExprId(*id), *n))
        .collect::<HashMap<ExprId, u32>>();
    let checked = Checked {
        diagnostics: Vec::new(),
        elaboration,
        bindings: stored
            .bindings
            .iter()
            .map(|(name, decl, scheme, in_document)| BindingInfo {
                name: Name::from(name.as_str()),
                decl: *decl,
                scheme: Arc::from(scheme.as_str()),
                in_document: *in_document,
            })
            .collect(),
        body_type: stored.body_type.clone(),
    };
    Some((checked, load_interface(&stored.interface)?))
}

fn dict_nodes(dict: &DictExpr, out: &mut Vec<DictNode>) -> Option<()> {
    let start = out.len();
    let mut work = vec![dict];
    while let Some(dict) = work.pop() {
        if out.len() - start > super::MAX_NODES {
            return None;
        }
        let node = match dict {
            DictExpr::Instance { instance, args } => {
                work.extend(args.iter());
                DictNode::Instance(
                    instance.module.0,
                    instance.decl,
                    u32::try_from(args.len()).ok()?,
                )
            }
            DictExpr::Param { binder, index } => DictNode::Param(binder.0, *index),
            DictExpr::Context { index } => DictNode::Context(*index),
            DictExpr::SelfDict => DictNode::SelfDict,
            DictExpr::Super { dict, index } => {
                work.push(dict);
                DictNode::Super(*index)
            }
        };
        out.push(node);
    }
    out.get_mut(start..)?.reverse();
    Some(())
}

fn decode_dicts(nodes: &[DictNode]) -> Option<Vec<DictExpr>> {
    let mut stack: Vec<DictExpr> = Vec::new();
    for node in nodes {
        let dict = match node {
            DictNode::Instance(module, decl, n) => {
                let at = stack.len().checked_sub(*n as usize)?;
                DictExpr::Instance {
                    instance: InstanceRef {
                        module: FileId(*module),
                        decl: *decl,
                    },
                    args: stack.split_off(at),
                }
            }
            DictNode::Param(binder, index) => DictExpr::Param {
                binder: ExprId(*binder),
                index: *index,
            },
            DictNode::Context(index) => DictExpr::Context { index: *index },
            DictNode::SelfDict => DictExpr::SelfDict,
            DictNode::Super(index) => DictExpr::Super {
                dict: Box::new(stack.pop()?),
                index: *index,
            },
        };
        stack.push(dict);
    }
    Some(stack)
}

fn types_dto<'a>(types: impl IntoIterator<Item = &'a SType>) -> Option<TypesDto> {
    let mut nodes = Vec::new();
    let mut count = 0u32;
    for ty in types {
        type_nodes(ty, &mut nodes)?;
        count += 1;
    }
    Some(TypesDto { count, nodes })
}

fn load_types(dto: &TypesDto) -> Option<Vec<SType>> {
    let types = decode_types(&dto.nodes)?;
    (types.len() == dto.count as usize).then_some(types)
}

fn load_type(dto: &TypesDto) -> Option<SType> {
    let mut types = load_types(dto)?;
    (types.len() == 1).then(|| types.pop()).flatten()
}

fn pred_dto(pred: &Pred) -> Option<PredDto> {
    Some(PredDto {
        class: pred.class.to_string(),
        args: types_dto(&pred.args)?,
    })
}

fn load_pred(dto: &PredDto) -> Option<Pred> {
    Some(Pred {
        class: Name::from(dto.class.as_str()),
        args: load_types(&dto.args)?,
    })
}

fn scheme_dto(scheme: &Scheme) -> Option<SchemeDto> {
    Some(SchemeDto {
        n_gen: scheme.n_gen,
        constraints: scheme
            .constraints
            .iter()
            .map(pred_dto)
            .collect::<Option<_>>()?,
        ty: types_dto([&scheme.ty])?,
    })
}

fn load_scheme(dto: &SchemeDto) -> Option<Scheme> {
    Some(Scheme {
        n_gen: dto.n_gen,
        constraints: dto
            .constraints
            .iter()
            .map(load_pred)
            .collect::<Option<_>>()?,
        ty: load_type(&dto.ty)?,
    })
}

fn def_id_dto(id: &DefId) -> DefIdDto {
    (id.module.map(|it| it.0), id.name.to_string())
}

fn load_def_id(dto: &DefIdDto) -> DefId {
    DefId {
        module: dto.0.map(FileId),
        name: Name::from(dto.1.as_str()),
    }
}

fn interface_dto(interface: &Interface) -> Option<InterfaceDto> {
    let values = interface
        .values
        .iter()
        .map(|(name, info, declared)| {
            let origin = match &info.origin {
                Origin::Prelude => OriginDto::Prelude,
                Origin::Decl(decl) => OriginDto::Decl(*decl),
                Origin::Method { class, decl } => OriginDto::Method(class.to_string(), *decl),
                Origin::Global { module, decl } => OriginDto::Global(module.0, *decl),
            };
            Some((
                name.to_string(),
                scheme_dto(&info.scheme)?,
                origin,
                declared.to_string(),
            ))
        })
        .collect::<Option<_>>()?;
    let types = interface
        .types
        .iter()
        .map(|(name, def, id)| {
            let def = match &**def {
                TypeDef::Builtin { arity } => TypeDefDto::Builtin(*arity),
                TypeDef::Union {
                    arity,
                    ctors,
                    identity,
                } => TypeDefDto::Union(
                    *arity,
                    ctors.iter().map(ToString::to_string).collect(),
                    identity.to_string(),
                ),
                TypeDef::Alias {
                    arity,
                    body,
                    canonical,
                } => TypeDefDto::Alias(
                    *arity,
                    types_dto([body])?,
                    canonical.as_ref().map(ToString::to_string),
                ),
            };
            Some((name.to_string(), def, def_id_dto(id)))
        })
        .collect::<Option<_>>()?;
    let ctors = interface
        .ctors
        .iter()
        .map(|(name, info, id)| {
            let payload = match &info.payload {
                Some(ty) => Some(types_dto([ty])?),
                None => None,
            };
            let dto = CtorDto {
                ty: info.ty.to_string(),
                n_params: info.n_params,
                payload,
            };
            Some((name.to_string(), dto, def_id_dto(id)))
        })
        .collect::<Option<_>>()?;
    let classes = interface
        .classes
        .iter()
        .map(|(name, info, id)| {
            let dto = ClassDto {
                name: info.name.to_string(),
                n_params: info.n_params,
                supers: info.supers.iter().map(pred_dto).collect::<Option<_>>()?,
                methods: info
                    .methods
                    .iter()
                    .map(|m| Some((m.name.to_string(), scheme_dto(&m.scheme)?, m.has_default)))
                    .collect::<Option<_>>()?,
                builtin: info.builtin,
            };
            Some((name.to_string(), dto, def_id_dto(id)))
        })
        .collect::<Option<_>>()?;
    let instances = interface
        .instances
        .iter()
        .map(|info| {
            Some(InstanceDto {
                class: info.class.to_string(),
                iref: (info.iref.module.0, info.iref.decl),
                n_vars: info.n_vars,
                head: types_dto(&info.head)?,
                context: info.context.iter().map(pred_dto).collect::<Option<_>>()?,
            })
        })
        .collect::<Option<_>>()?;
    Some(InterfaceDto {
        module: interface.module.map(|it| it.0),
        key: interface.key.clone(),
        values,
        types,
        ctors,
        classes,
        instances,
    })
}

fn load_interface(dto: &InterfaceDto) -> Option<Interface> {
    let name = |text: &String| Name::from(text.as_str());
    let values = dto
        .values
        .iter()
        .map(|(exported, scheme, origin, declared)| {
            let origin = match origin {
                OriginDto::Prelude => Origin::Prelude,
                OriginDto::Decl(decl) => Origin::Decl(*decl),
                OriginDto::Method(class, decl) => Origin::Method {
                    class: name(class),
                    decl: *decl,
                },
                OriginDto::Global(module, decl) => Origin::Global {
                    module: FileId(*module),
                    decl: *decl,
                },
            };
            let info = ValueInfo {
                scheme: Arc::new(load_scheme(scheme)?),
                origin,
            };
            Some((name(exported), info, name(declared)))
        })
        .collect::<Option<_>>()?;
    let types = dto
        .types
        .iter()
        .map(|(exported, def, id)| {
            let def = match def {
                TypeDefDto::Builtin(arity) => TypeDef::Builtin { arity: *arity },
                TypeDefDto::Union(arity, ctors, identity) => TypeDef::Union {
                    arity: *arity,
                    ctors: ctors.iter().map(name).collect(),
                    identity: name(identity),
                },
                TypeDefDto::Alias(arity, body, canonical) => TypeDef::Alias {
                    arity: *arity,
                    body: load_type(body)?,
                    canonical: canonical.as_ref().map(name),
                },
            };
            Some((name(exported), Arc::new(def), load_def_id(id)))
        })
        .collect::<Option<_>>()?;
    let ctors = dto
        .ctors
        .iter()
        .map(|(exported, info, id)| {
            let payload = match &info.payload {
                Some(ty) => Some(load_type(ty)?),
                None => None,
            };
            let info = CtorInfo {
                ty: name(&info.ty),
                n_params: info.n_params,
                payload,
            };
            Some((name(exported), Arc::new(info), load_def_id(id)))
        })
        .collect::<Option<_>>()?;
    let classes = dto
        .classes
        .iter()
        .map(|(exported, info, id)| {
            let info = ClassInfo {
                name: name(&info.name),
                n_params: info.n_params,
                supers: info.supers.iter().map(load_pred).collect::<Option<_>>()?,
                methods: info
                    .methods
                    .iter()
                    .map(|(method, scheme, has_default)| {
                        Some(MethodInfo {
                            name: name(method),
                            scheme: Arc::new(load_scheme(scheme)?),
                            has_default: *has_default,
                        })
                    })
                    .collect::<Option<_>>()?,
                builtin: info.builtin,
            };
            Some((name(exported), Arc::new(info), load_def_id(id)))
        })
        .collect::<Option<_>>()?;
    let instances = dto
        .instances
        .iter()
        .map(|info| {
            Some(Arc::new(InstanceInfo {
                class: name(&info.class),
                iref: InstanceRef {
                    module: FileId(info.iref.0),
                    decl: info.iref.1,
                },
                n_vars: info.n_vars,
                head: load_types(&info.head)?,
                context: info.context.iter().map(load_pred).collect::<Option<_>>()?,
            }))
        })
        .collect::<Option<_>>()?;
    Some(Interface {
        module: dto.module.map(FileId),
        key: dto.key.clone(),
        values,
        types,
        ctors,
        classes,
        instances,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::env::Env;

    const MODULE: &str = "typeclass Render 'a where
    render : 'a -> String;
export type Shape = Circle Integer | Square;
export type Pair 'a = { left: 'a, right: 'a };
instance Render Integer where
    render = \\n -> toString n;
instance Render 'a => Render (List 'a) where
    render = \\xs -> fold (\\acc x -> acc ++ render x) \"\" xs;
export let show = \\x -> render [x, x];
export let both : Pair Shape = { left = Circle 1, right = Square };
let text = show 3;
";

    fn checked() -> (Checked, Interface) {
        let file = FileId(7);
        let parsed = crate::syntax::parse(file, MODULE);
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        let (checked, env) = crate::types::check_module_in(file, &parsed.module, Env::prelude());
        assert!(checked.diagnostics.is_empty(), "{:?}", checked.diagnostics);
        let interface = crate::types::imports::interface(file, "m.lig", &parsed.module, &env);
        (checked, interface)
    }

    #[test]
    fn a_check_comes_back_as_written() {
        let (checked, interface) = checked();
        assert!(
            !checked.elaboration.uses.is_empty(),
            "the test needs dictionaries"
        );
        let stored = store(&checked, &interface).expect("storable");
        let bytes = postcard::to_allocvec(&stored).expect("encodes");
        let back: StoredCheck = postcard::from_bytes(&bytes).expect("decodes");
        let (checked_back, interface_back) = load(&back).expect("well formed");
        assert_eq!(checked_back.elaboration, checked.elaboration);
        assert_eq!(checked_back.bindings, checked.bindings);
        assert_eq!(checked_back.body_type, checked.body_type);
        assert_eq!(format!("{interface_back:?}"), format!("{interface:?}"));
    }

    #[test]
    fn a_deep_dictionary_is_written_and_read_without_recursion() {
        let mut dict = DictExpr::SelfDict;
        for index in 0..200_000 {
            dict = DictExpr::Super {
                dict: Box::new(dict),
                index,
            };
        }
        let mut nodes = Vec::new();
        dict_nodes(&dict, &mut nodes).expect("not too big");
        let back = decode_dicts(&nodes).expect("well formed");
        assert_eq!(back.len(), 1);
        // Neither is dropped recursively by the test's own stack.
        std::mem::forget(back);
        std::mem::forget(dict);
    }
}
