//! The DS queries and the simulator checked against DS's published GraphQL schema
//! (`tests/fixtures/ds-schema.graphql`), not only against our own simulator: every field, argument,
//! variable type and fragment condition the client sends exists in DS's schema, and every type
//! the simulator serves has DS's fields with DS's types.

use std::collections::HashMap;
use std::path::PathBuf;

use async_graphql::parser::types::{
    BaseType, ExecutableDocument, FieldDefinition, Selection, SelectionSet, ServiceDocument, Type,
    TypeKind, TypeSystemDefinition,
};
use async_graphql::parser::{parse_query, parse_schema};

/// DS's schema, kept in the repository (see the file's first lines for where it comes from).
fn ds_schema() -> Schema {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ds-schema.graphql");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("{} unreadable: {error}", path.display()));
    Schema::new(parse_schema(&text).expect("DS's schema parses"))
}

/// The types of a schema by name: their kind, and their fields when they have some.
struct Schema {
    types: HashMap<String, TypeKind>,
}

impl Schema {
    fn new(document: ServiceDocument) -> Schema {
        let mut types = HashMap::new();
        for definition in document.definitions {
            if let TypeSystemDefinition::Type(t) = definition {
                types.insert(t.node.name.node.to_string(), t.node.kind);
            }
        }
        Schema { types }
    }

    fn fields(
        &self,
        type_name: &str,
    ) -> Option<&[async_graphql::parser::Positioned<FieldDefinition>]> {
        match self.types.get(type_name)? {
            TypeKind::Object(o) => Some(&o.fields),
            TypeKind::Interface(i) => Some(&i.fields),
            _ => None,
        }
    }

    fn field(&self, type_name: &str, field: &str) -> Option<&FieldDefinition> {
        self.fields(type_name)?
            .iter()
            .map(|f| &f.node)
            .find(|f| f.name.node.as_str() == field)
    }
}

fn base_name(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(inner) => base_name(inner),
    }
}

/// Every problem of `document` against `schema`, as "path: what".
fn check_document(schema: &Schema, document: &ExecutableDocument) -> Vec<String> {
    let mut problems = Vec::new();
    for (_, operation) in document.operations.iter() {
        for variable in &operation.node.variable_definitions {
            let ty = base_name(&variable.node.var_type.node);
            if !schema.types.contains_key(ty)
                && !["Int", "String", "Boolean", "ID", "Float"].contains(&ty)
            {
                problems.push(format!("${}: unknown type {ty}", variable.node.name.node));
            }
        }
        check_selection(
            schema,
            document,
            "Query",
            &operation.node.selection_set.node,
            "query",
            &mut problems,
        );
    }
    problems
}

fn check_selection(
    schema: &Schema,
    document: &ExecutableDocument,
    type_name: &str,
    selection: &SelectionSet,
    path: &str,
    problems: &mut Vec<String>,
) {
    for item in &selection.items {
        match &item.node {
            Selection::Field(field) => {
                let name = field.node.name.node.as_str();
                if name == "__typename" {
                    continue;
                }
                let here = format!("{path}.{name}");
                let Some(definition) = schema.field(type_name, name) else {
                    problems.push(format!("{here}: no field {name} on {type_name}"));
                    continue;
                };
                for (argument, _) in &field.node.arguments {
                    if !definition
                        .arguments
                        .iter()
                        .any(|a| a.node.name.node == argument.node)
                    {
                        problems.push(format!("{here}: no argument {}", argument.node));
                    }
                }
                let inner = &field.node.selection_set.node;
                if !inner.items.is_empty() {
                    check_selection(
                        schema,
                        document,
                        base_name(&definition.ty.node),
                        inner,
                        &here,
                        problems,
                    );
                }
            }
            Selection::FragmentSpread(spread) => {
                let name = &spread.node.fragment_name.node;
                match document.fragments.get(name) {
                    Some(fragment) => {
                        let on = fragment.node.type_condition.node.on.node.as_str();
                        check_condition(schema, on, path, problems);
                        check_selection(
                            schema,
                            document,
                            on,
                            &fragment.node.selection_set.node,
                            &format!("{path}(...{name})"),
                            problems,
                        );
                    }
                    None => problems.push(format!("{path}: no fragment {name}")),
                }
            }
            Selection::InlineFragment(inline) => {
                let on = inline
                    .node
                    .type_condition
                    .as_ref()
                    .map_or(type_name, |c| c.node.on.node.as_str());
                check_condition(schema, on, path, problems);
                check_selection(
                    schema,
                    document,
                    on,
                    &inline.node.selection_set.node,
                    &format!("{path}(on {on})"),
                    problems,
                );
            }
        }
    }
}

fn check_condition(schema: &Schema, on: &str, path: &str, problems: &mut Vec<String>) {
    if !schema.types.contains_key(on) {
        problems.push(format!("{path}: no type {on}"));
    }
}

#[test]
fn every_query_the_client_sends_exists_in_ds_schema() {
    let schema = ds_schema();
    let mut documents = vec![(
        "dossiers".to_owned(),
        wif::ds::v2::DOSSIERS_QUERY.to_owned(),
    )];
    for list in wif::ds::v2::DELETED_LISTS {
        documents.push((list.to_owned(), wif::ds::v2::deleted_query(list)));
    }
    for (name, text) in documents {
        let document = parse_query(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let problems = check_document(&schema, &document);
        assert!(problems.is_empty(), "{name}: {problems:#?}");
    }
}

#[test]
fn the_checker_finds_what_ds_does_not_have() {
    let schema = ds_schema();
    let wrong = parse_query(
        "query q($n: Int!) { demarche(number: $n) { nombre dossiers(premier: 1) { nodes { ... on Brouillon { id } } } } }",
    )
    .unwrap();
    let problems = check_document(&schema, &wrong);
    assert!(
        problems.iter().any(|p| p.contains("no field nombre")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("no argument premier")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("no type Brouillon")),
        "{problems:?}"
    );
}

/// The simulator serves DS's types: each of its fields exists on DS's type of the same name,
/// with the same type, and each of its enums' values is one of DS's.
#[test]
fn the_simulator_speaks_ds_schema() {
    let ds = ds_schema();
    let simulator = wif::fake_ds::FakeDs::new(1, 1, 1, "jeton");
    let sdl = wif::fake_ds::v2::schema(simulator).sdl();
    let ours = Schema::new(parse_schema(&sdl).expect("the simulator's schema parses"));
    let mut problems = Vec::new();
    for (name, kind) in &ours.types {
        let Some(theirs) = ds.types.get(name) else {
            if !name.starts_with("__")
                && !["Int", "String", "Boolean", "ID", "Float"].contains(&name.as_str())
            {
                problems.push(format!("type {name} is not DS's"));
            }
            continue;
        };
        match kind {
            TypeKind::Object(_) | TypeKind::Interface(_) => {
                for field in ours.fields(name).unwrap_or_default() {
                    let field = &field.node;
                    match ds.field(name, field.name.node.as_str()) {
                        Some(d) if d.ty.node.to_string() == field.ty.node.to_string() => {}
                        Some(d) => problems.push(format!(
                            "{name}.{}: {} here, {} on DS",
                            field.name.node, field.ty.node, d.ty.node
                        )),
                        None => problems.push(format!("{name}.{}: not on DS", field.name.node)),
                    }
                }
            }
            TypeKind::Enum(e) => {
                let TypeKind::Enum(d) = theirs else {
                    problems.push(format!("{name}: an enum here, not on DS"));
                    continue;
                };
                for value in &e.values {
                    if !d
                        .values
                        .iter()
                        .any(|v| v.node.value.node == value.node.value.node)
                    {
                        problems.push(format!("{name}.{}: not on DS", value.node.value.node));
                    }
                }
            }
            _ => {}
        }
    }
    problems.sort();
    assert!(problems.is_empty(), "{problems:#?}");
}
