//! The one table of functions, held against itself here and against the deployment by
//! `tests/contract/test_function_table.py`, which reads it as this test writes it.

use std::collections::HashSet;

use acs_chat_api::api::{AdminKey, Method, specs};
use serde_json::json;

#[test]
fn every_function_has_its_own_name_and_routes_and_the_table_is_written_for_the_deployment_checks() {
    let specs = specs();
    let names: HashSet<&str> = specs.iter().map(|s| s.name).collect();
    assert_eq!(names.len(), specs.len(), "a name twice");
    let routes: Vec<&str> = specs
        .iter()
        .flat_map(|s| s.routes.iter().copied())
        .collect();
    let unique: HashSet<&&str> = routes.iter().collect();
    assert_eq!(unique.len(), routes.len(), "a route twice");
    let table: Vec<_> = specs
        .iter()
        .map(|spec| {
            json!({
                "name": spec.name,
                "routes": spec.routes,
                "method": spec.method.as_str(),
                "needs": {
                    "chat": spec.needs.chat,
                    "admin_key": match spec.needs.admin_key {
                        AdminKey::Never => "never",
                        AdminKey::Always => "always",
                        AdminKey::WhenTrusted => "when_trusted",
                    },
                    "publishes": spec.needs.publishes,
                    "webhook": spec.needs.webhook,
                    "authorizes": spec.needs.authorizes,
                    "identity_provider": spec.needs.identity_provider,
                    "people": spec.needs.people,
                    "files": spec.needs.files,
                    "pushes": spec.needs.pushes,
                    "seals": spec.needs.seals,
                },
            })
        })
        .collect();
    assert!(specs.iter().any(|s| s.method == Method::Get));
    support::record::file(
        "functions.json",
        &serde_json::to_string_pretty(&table).unwrap(),
    );
}
