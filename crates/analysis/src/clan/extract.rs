//! Reads the clan configuration out of evaluated values: `clan = { … }` / `flake.clan = { … }`
//! (machines, inventory, local services). Anything unreadable marks that part open.

use std::collections::BTreeMap;
use std::rc::Rc;

use super::model::*;
use crate::diagnostic::Location;
use crate::eval::read::{
    attr_values, attrs_named, config_sets_of, known_json, module_body, strip_priority,
};
use crate::eval::{Attr, Attrs, Evaluator, Span, Thunk, Value};
use crate::options::types::OptionSpec;

/// The location of an attribute's value if written literally, else its key, else `fallback`.
fn value_loc(a: &Attr, fallback: &Location) -> Location {
    a.value_span
        .as_ref()
        .or(a.key_span.as_ref())
        .map(Span::location)
        .unwrap_or_else(|| fallback.clone())
}

fn key_loc(a: &Attr, fallback: &Location) -> Location {
    a.key_span
        .as_ref()
        .map(Span::location)
        .unwrap_or_else(|| fallback.clone())
}

pub(crate) struct ClanReader<'e, 'a> {
    pub ev: &'e Evaluator<'a>,
    pub out: &'e mut ClanFragment,
    depth: u32,
    /// Every `roles.<r>.extraModules` definition read, with its instance and role: the
    /// summary walks them as modules of the role's machines.
    pub extra_modules: std::cell::RefCell<Vec<(String, String, Thunk)>>,
}

impl<'e, 'a> ClanReader<'e, 'a> {
    pub fn new(ev: &'e Evaluator<'a>, out: &'e mut ClanFragment) -> Self {
        ClanReader {
            ev,
            out,
            depth: 0,
            extra_modules: Default::default(),
        }
    }

    fn sets(&self, t: &Thunk) -> (Vec<Rc<Attrs>>, bool) {
        config_sets_of(self.ev, t)
    }

    /// Applies a module function to module arguments, so its body can be read. A path is a
    /// module file, whose value may be such a function (`clan.modules.x = ./x.nix;`).
    fn module_value(&self, t: &Thunk) -> Thunk {
        match self.ev.force(t) {
            Value::Path(p) => Thunk::value(module_body(self.ev, self.ev.import(&p))),
            v @ (Value::Lambda(_) | Value::Builtin(_)) => Thunk::value(module_body(self.ev, v)),
            _ => t.clone(),
        }
    }

    /// A clan module: the value of `clan`, `flake.clan`, or a file it imports.
    pub fn clan_module(&mut self, t: &Thunk, fallback: &Location) {
        let ev = self.ev;
        let level = ev.enter();
        if self.depth > 8 || level.is_none() {
            self.out.open = ClanOpen::all();
            return;
        }
        let t = self.module_value(t);
        let (sets, ok) = self.sets(&t);
        if !ok && sets.is_empty() {
            self.out.open = ClanOpen::all();
            return;
        }
        for imports in attr_values(&sets, "imports") {
            match self.ev.force(&imports) {
                Value::List(items) => {
                    for i in items.iter() {
                        if !ev.charge(1) {
                            self.out.open = ClanOpen::all();
                            return;
                        }
                        match self.ev.force(i) {
                            Value::Path(_) | Value::Attrs(_) | Value::Lambda(_) => {
                                self.depth += 1;
                                self.clan_module(i, fallback);
                                self.depth -= 1;
                            }
                            // A module from elsewhere (`flake.modules.clan.x`, another input):
                            // it may add anything.
                            _ => self.out.open = ClanOpen::all(),
                        }
                    }
                }
                _ => self.out.open = ClanOpen::all(),
            }
        }
        for a in attrs_named(&sets, "machines") {
            let fb = key_loc(a, fallback);
            let (ms, ok) = self.sets(&a.value);
            if !ok {
                self.out.open.machine_configs = true;
            }
            for set in ms {
                if !ev.charge(set.map.len() as u64) {
                    self.out.open = ClanOpen::all();
                    return;
                }
                for (name, m) in &set.map {
                    self.out.machine_configs.push(Named {
                        name: name.to_string(),
                        location: key_loc(m, &fb),
                    });
                }
            }
        }
        for a in attrs_named(&sets, "inventory") {
            let fb = key_loc(a, fallback);
            self.inventory(&a.value, &fb);
        }
        self.meta(&sets, fallback);
        for a in attrs_named(&sets, "modules") {
            let fb = key_loc(a, fallback);
            self.local_services(&a.value, &fb);
        }
        for vars in attrs_named(&sets, "vars") {
            let (vs, vok) = self.sets(&vars.value);
            let mut settings: Vec<Rc<Attrs>> = Vec::new();
            let mut ok = vok;
            for s in attrs_named(&vs, "settings") {
                let (ss, sok) = self.sets(&s.value);
                ok &= sok;
                settings.extend(ss);
            }
            let fb = key_loc(vars, fallback);
            match self.string_field(&settings, "secretStore", &fb) {
                Field::Unset if ok => {}
                Field::Unset => self.out.secret_store = Field::Unknown,
                f => self.out.secret_store = f,
            }
        }
    }

    fn inventory(&mut self, t: &Thunk, fallback: &Location) {
        let (sets, ok) = self.sets(t);
        self.meta(&sets, fallback);
        if !ok || !attr_values(&sets, "imports").is_empty() {
            let o = &mut self.out.open;
            o.machines = true;
            o.tags = true;
            o.instances = true;
        }
        for a in attrs_named(&sets, "machines") {
            let fb = key_loc(a, fallback);
            let (ms, ok) = self.sets(&a.value);
            if !ok {
                self.out.open.machines = true;
            }
            for set in ms {
                if !self.ev.charge(set.map.len() as u64) {
                    self.out.open = ClanOpen::all();
                    return;
                }
                for (name, m) in &set.map {
                    let m_loc = key_loc(m, &fb);
                    let machine = self.machine(name, m, m_loc);
                    self.out.machines.push(machine);
                }
            }
        }
        for a in attrs_named(&sets, "tags") {
            let fb = key_loc(a, fallback);
            if let (Value::Lambda(_), Some(span)) = (self.ev.force(&a.value), &a.value_span) {
                self.out.dynamic_tags.push(span.location());
                continue;
            }
            let (ts, ok) = self.sets(&a.value);
            if !ok {
                self.out.open.tags = true;
            }
            for set in ts {
                if !self.ev.charge(set.map.len() as u64) {
                    self.out.open = ClanOpen::all();
                    return;
                }
                for (name, tag) in &set.map {
                    let location = key_loc(tag, &fb);
                    let members = self.name_list(&tag.value, &location);
                    self.out.tags.push(InvTag {
                        name: name.to_string(),
                        location,
                        members,
                    });
                }
            }
        }
        for a in attrs_named(&sets, "instances") {
            let fb = key_loc(a, fallback);
            let (is, ok) = self.sets(&a.value);
            if !ok {
                self.out.open.instances = true;
            }
            for set in is {
                if !self.ev.charge(set.map.len() as u64) {
                    self.out.open = ClanOpen::all();
                    return;
                }
                for (name, inst) in &set.map {
                    let location = key_loc(inst, &fb);
                    let instance = self.instance(name, &inst.value, location);
                    self.out.instances.push(instance);
                }
            }
        }
        for a in attrs_named(&sets, "services") {
            self.out.legacy_services.push(key_loc(a, fallback));
        }
    }

    fn machine(&self, name: &str, m: &Attr, location: Location) -> InvMachine {
        let (fields, ok) = self.sets(&m.value);
        let unknown_if = |f: Field<String>| if ok { f } else { Field::Unknown };
        let deploy: Vec<Rc<Attrs>> = attr_values(&fields, "deploy")
            .iter()
            .flat_map(|d| self.sets(d).0)
            .collect();
        InvMachine {
            name: name.to_owned(),
            class: unknown_if(self.string_field(&fields, "machineClass", &location)),
            tags: if ok {
                match attrs_named(&fields, "tags").next() {
                    Some(t) => self.name_list(&t.value, &value_loc(t, &location)),
                    None => Field::Unset,
                }
            } else {
                Field::Unknown
            },
            target_host: unknown_if(self.string_field(&deploy, "targetHost", &location)),
            build_host: unknown_if(self.string_field(&deploy, "buildHost", &location)),
            location,
        }
    }

    /// A string-valued attribute (the last definition wins, as priorities are equal).
    /// `meta.<key>` set to a string (for deprecated fields such as `meta.tld`).
    fn meta(&mut self, sets: &[Rc<Attrs>], fallback: &Location) {
        for m in attrs_named(sets, "meta") {
            let (ms, _) = self.sets(&m.value);
            for set in ms {
                for (key, a) in &set.map {
                    if !self.ev.charge(1) {
                        return;
                    }
                    if let Value::Str(_) = strip_priority(self.ev, self.ev.force(&a.value)) {
                        self.out.meta_strings.push(Named {
                            name: format!("meta.{key}"),
                            location: key_loc(a, fallback),
                        });
                    }
                }
            }
        }
    }

    fn string_field(&self, sets: &[Rc<Attrs>], name: &str, fallback: &Location) -> Field<String> {
        let mut f = Field::Unset;
        for a in attrs_named(sets, name) {
            let v = strip_priority(self.ev, self.ev.force(&a.value));
            f = match v {
                Value::Str(s) => Field::Known(s.to_string(), value_loc(a, fallback)),
                Value::Null => Field::Unset,
                _ => Field::Unknown,
            };
        }
        f
    }

    /// A list of names (`[ "a" "b" ]`), each with where it was written.
    fn name_list(&self, t: &Thunk, fallback: &Location) -> Field<Vec<Named>> {
        match strip_priority(self.ev, self.ev.force(t)) {
            Value::List(items) => {
                let mut out = Vec::new();
                for i in items.iter() {
                    match self.ev.force(i) {
                        Value::Str(s) => out.push(Named {
                            name: s.to_string(),
                            location: i
                                .span()
                                .map(Span::location)
                                .unwrap_or_else(|| fallback.clone()),
                        }),
                        _ => return Field::Unknown,
                    }
                }
                Field::Known(out, fallback.clone())
            }
            _ => Field::Unknown,
        }
    }

    fn instance(&self, name: &str, t: &Thunk, location: Location) -> InvInstance {
        let (sets, ok) = self.sets(t);
        let mut module_name = Field::Unset;
        let mut module_input = Field::Unset;
        for m in attrs_named(&sets, "module") {
            let (ms, mok) = self.sets(&m.value);
            if !mok {
                module_name = Field::Unknown;
                module_input = Field::Unknown;
                continue;
            }
            let fb = key_loc(m, &location);
            if let f @ (Field::Known(..) | Field::Unknown) = self.string_field(&ms, "name", &fb) {
                module_name = f;
            }
            for i in attrs_named(&ms, "input") {
                module_input = match strip_priority(self.ev, self.ev.force(&i.value)) {
                    Value::Null => Field::Known(None, value_loc(i, &fb)),
                    Value::Str(s) => Field::Known(Some(s.to_string()), value_loc(i, &fb)),
                    _ => Field::Unknown,
                };
            }
        }
        let roles = if !ok {
            Field::Unknown
        } else {
            let mut roles = Vec::new();
            let mut readable = true;
            let mut roles_loc = location.clone();
            for r in attrs_named(&sets, "roles") {
                roles_loc = key_loc(r, &location);
                let (rs, rok) = self.sets(&r.value);
                readable &= rok;
                for set in rs {
                    for (role, v) in &set.map {
                        roles.push(self.role(name, role, v, &roles_loc));
                    }
                }
            }
            if readable {
                Field::Known(roles, roles_loc)
            } else {
                Field::Unknown
            }
        };
        InvInstance {
            name: name.to_owned(),
            location,
            module_name,
            module_input,
            roles,
        }
    }

    fn role(&self, instance: &str, name: &str, r: &Attr, fallback: &Location) -> InvRole {
        let location = key_loc(r, fallback);
        let (sets, ok) = self.sets(&r.value);
        if !ok {
            return InvRole {
                name: name.to_owned(),
                location,
                machines: Members::Unknown,
                tags: Members::Unknown,
                settings: Settings {
                    open: true,
                    ..Default::default()
                },
                extra_modules: Field::Unknown,
            };
        }
        let machines = attrs_named(&sets, "machines")
            .map(|m| self.members(m, &location))
            .fold(Members::Unset, merge_members);
        let tags = attrs_named(&sets, "tags")
            .map(|m| self.members(m, &location))
            .fold(Members::Unset, merge_members);
        let tags = match tags {
            // A list of tags is valid (clan-core coerces it to an attrset).
            Members::List(_, names) => Members::Known(
                names
                    .into_iter()
                    .map(|n| Member {
                        name: n.name,
                        location: n.location,
                        settings: Settings::default(),
                    })
                    .collect(),
            ),
            other => other,
        };
        let settings = attrs_named(&sets, "settings")
            .map(|s| self.settings(s, &location))
            .fold(Settings::default(), merge_settings);
        let mut extra_modules = Field::Unset;
        for a in attrs_named(&sets, "extraModules") {
            self.extra_modules.borrow_mut().push((
                instance.to_owned(),
                name.to_owned(),
                a.value.clone(),
            ));
            extra_modules = match (
                extra_modules,
                strip_priority(self.ev, self.ev.force(&a.value)),
            ) {
                (Field::Unknown, _) => Field::Unknown,
                // Definitions in several modules concatenate.
                (Field::Known(n, l), Value::List(items)) => Field::Known(n + items.len(), l),
                (Field::Unset, Value::List(items)) => {
                    Field::Known(items.len(), key_loc(a, &location))
                }
                _ => Field::Unknown,
            };
        }
        InvRole {
            name: name.to_owned(),
            location,
            machines,
            tags,
            settings,
            extra_modules,
        }
    }

    /// `machines` / `tags` of a role: an attrset of names to `{ settings }`, or a list.
    fn members(&self, a: &Attr, fallback: &Location) -> Members {
        let at = key_loc(a, fallback);
        match strip_priority(self.ev, self.ev.force(&a.value)) {
            Value::List(_) => match self.name_list(&a.value, &value_loc(a, fallback)) {
                Field::Known(names, _) => Members::List(value_loc(a, fallback), names),
                _ => Members::Unknown,
            },
            Value::Attrs(_) => {
                let (sets, ok) = self.sets(&a.value);
                if !ok {
                    return Members::Unknown;
                }
                let mut out = Vec::new();
                for set in sets {
                    for (name, m) in &set.map {
                        let location = key_loc(m, &at);
                        let (ms, mok) = self.sets(&m.value);
                        let settings = if mok {
                            attrs_named(&ms, "settings")
                                .map(|s| self.settings(s, &location))
                                .fold(Settings::default(), merge_settings)
                        } else {
                            Settings {
                                open: true,
                                ..Default::default()
                            }
                        };
                        out.push(Member {
                            name: name.to_string(),
                            location,
                            settings,
                        });
                    }
                }
                Members::Known(out)
            }
            _ => Members::Unknown,
        }
    }

    fn settings(&self, a: &Attr, fallback: &Location) -> Settings {
        let location = key_loc(a, fallback);
        let (sets, ok) = self.sets(&a.value);
        let mut out = Settings {
            entries: Vec::new(),
            open: !ok,
            location: Some(location.clone()),
        };
        for set in sets {
            for (k, v) in &set.map {
                out.entries.push(Setting {
                    key: k.to_string(),
                    location: key_loc(v, &location),
                    value_location: v.value_span.as_ref().map(Span::location),
                    value: known_json(self.ev, &v.value),
                });
            }
        }
        out
    }

    /// `clan.modules.<name>`: the repository's own services.
    pub(crate) fn local_services(&mut self, t: &Thunk, fallback: &Location) {
        // `clan.modules = config.flake.modules."clan.service";` uses every module of the class.
        self.ev.escape_value(&self.ev.force(t));
        let (sets, ok) = self.sets(t);
        if !ok {
            self.out.open.modules = true;
        }
        for set in sets {
            for (name, m) in &set.map {
                let location = key_loc(m, fallback);
                if let Some(s) = self.local_service(name, &m.value, location) {
                    self.out.local_services.push(s);
                }
            }
        }
    }

    fn local_service(&self, name: &str, t: &Thunk, location: Location) -> Option<LocalService> {
        let body = self.module_value(t);
        let (sets, ok) = self.sets(&body);
        let mut service = LocalService {
            name: name.to_owned(),
            location: location.clone(),
            manifest_name: None,
            roles: None,
            max_instances: None,
        };
        if !ok {
            return Some(service);
        }
        if let Some(class) = attrs_named(&sets, "_class").next() {
            if let Value::Str(c) = self.ev.force(&class.value) {
                if &*c != "clan.service" {
                    return None;
                }
            }
        }
        let manifest: Vec<Rc<Attrs>> = attr_values(&sets, "manifest")
            .iter()
            .flat_map(|m| self.sets(m).0)
            .collect();
        service.manifest_name = self
            .string_field(&manifest, "name", &location)
            .known()
            .cloned();
        let constraints: Vec<Rc<Attrs>> = attr_values(&manifest, "constraints")
            .iter()
            .flat_map(|c| self.sets(c).0)
            .collect();
        service.max_instances = self.int_field(&constraints, "maxInstances");
        let role_constraints: Vec<Rc<Attrs>> = attr_values(&constraints, "roles")
            .iter()
            .flat_map(|c| self.sets(c).0)
            .collect();
        // A service-wide `perMachine` may give darwin machines a module too.
        let per_machine = attr_values(&sets, "perMachine");
        let per_machine_darwin = self.gives(&per_machine, "darwinModule");
        let per_machine_nixos = self.gives(&per_machine, "nixosModule");
        let mut roles = BTreeMap::new();
        let mut readable = true;
        for r in attrs_named(&sets, "roles") {
            let (rs, rok) = self.sets(&r.value);
            readable &= rok;
            for set in rs {
                for (role, v) in &set.map {
                    let rloc = key_loc(v, &location);
                    let (body, bok) = self.sets(&v.value);
                    let options = if bok {
                        attr_values(&body, "interface")
                            .first()
                            .map_or(Some(BTreeMap::new()), |i| self.interface_options(i))
                    } else {
                        None
                    };
                    let rc: Vec<Rc<Attrs>> = attr_values(&role_constraints, role)
                        .iter()
                        .flat_map(|c| self.sets(c).0)
                        .collect();
                    let per_instance = attr_values(&body, "perInstance");
                    let either = |a: Option<bool>, b: Option<bool>| match (a, b) {
                        (Some(true), _) | (_, Some(true)) => Some(true),
                        (Some(false), Some(false)) => Some(false),
                        _ => None,
                    };
                    let darwin = either(
                        per_machine_darwin,
                        self.gives(&per_instance, "darwinModule"),
                    );
                    let nixos = either(per_machine_nixos, self.gives(&per_instance, "nixosModule"));
                    // A role that gives no machine a module says nothing about darwin.
                    let darwin = match (darwin, nixos) {
                        (Some(false), Some(false)) => None,
                        (d, _) => d,
                    };
                    roles.insert(
                        role.to_string(),
                        LocalRole {
                            location: rloc,
                            options,
                            min_machines: self.int_field(&rc, "minMachines"),
                            max_machines: self.int_field(&rc, "maxMachines"),
                            darwin: if bok { darwin } else { None },
                        },
                    );
                }
            }
        }
        if readable {
            service.roles = Some(roles);
        }
        Some(service)
    }

    fn int_field(&self, sets: &[Rc<Attrs>], name: &str) -> Option<u64> {
        attr_values(sets, name).last().and_then(|v| {
            match strip_priority(self.ev, self.ev.force(v)) {
                Value::Int(i) if i >= 0 => Some(i as u64),
                _ => None,
            }
        })
    }

    /// Whether `perInstance`/`perMachine` functions return a `module` (`darwinModule`,
    /// `nixosModule`): `Some(false)` only when every one was read and none does (none at all
    /// counts as `false`).
    fn gives(&self, fns: &[Thunk], module: &str) -> Option<bool> {
        let mut all_read = true;
        for f in fns {
            let v = self.module_value(f);
            let (sets, ok) = self.sets(&v);
            if attrs_named(&sets, module).next().is_some() {
                return Some(true);
            }
            all_read &= ok;
        }
        all_read.then_some(false)
    }

    /// The options a role's `interface` module declares; `None` when they cannot all be read.
    fn interface_options(&self, t: &Thunk) -> Option<BTreeMap<String, (OptionSpec, Location)>> {
        crate::options::read::module_option_tree(self.ev, t)
    }
}

fn merge_members(a: Members, b: Members) -> Members {
    match (a, b) {
        (Members::Unset, x) | (x, Members::Unset) => x,
        (Members::Known(mut x), Members::Known(y)) => {
            x.extend(y);
            Members::Known(x)
        }
        (l @ Members::List(..), _) | (_, l @ Members::List(..)) => l,
        _ => Members::Unknown,
    }
}

fn merge_settings(mut a: Settings, b: Settings) -> Settings {
    a.entries.extend(b.entries);
    a.open |= b.open;
    a.location = a.location.or(b.location);
    a
}
