//! The API model table the service validates requests with (`docclass::aws::shapes`) against
//! the copy of Comprehend's model in the installed botocore: every shape docclass declares must
//! exist there with the same type, lengths, pattern, enum values, members and required members.
//! Run by `.ci/run` with `--features botocore` and `DOCCLASS_CLIENTS_PYTHON` naming a Python
//! that has botocore (the clients' virtualenv); fails, never skips, without it.

use std::process::Command;

use serde_json::Value;

/// Comprehend's service model as the installed botocore loads it.
fn botocore_model() -> Value {
    let python = std::env::var("DOCCLASS_CLIENTS_PYTHON").expect(
        "DOCCLASS_CLIENTS_PYTHON must name a Python with botocore installed (.ci/run sets it)",
    );
    let out = Command::new(&python)
        .args([
            "-c",
            "import json, botocore.session; \
             m = botocore.session.get_session().get_service_model('comprehend'); \
             print(json.dumps(m._service_description))",
        ])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    assert!(
        out.status.success(),
        "{python} could not load botocore's Comprehend model:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The parts of a shape the table states (botocore adds documentation and flags).
fn stated(shape: &Value) -> Value {
    let mut out = serde_json::Map::new();
    for key in ["type", "min", "max", "pattern", "enum", "required"] {
        if let Some(v) = shape.get(key) {
            out.insert(key.into(), v.clone());
        }
    }
    if let Some(members) = shape.get("members").and_then(Value::as_object) {
        let m: serde_json::Map<String, Value> = members
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::json!({"shape": v["shape"]})))
            .collect();
        out.insert("members".into(), Value::Object(m));
    }
    if let Some(member) = shape.get("member") {
        out.insert(
            "member".into(),
            serde_json::json!({"shape": member["shape"]}),
        );
    }
    Value::Object(out)
}

#[test]
fn the_validation_table_matches_botocores_comprehend_model() {
    let theirs = botocore_model();
    let ours = docclass::aws::shapes::to_botocore_json();
    let mut differences = Vec::new();
    for (op, spec) in ours["operations"].as_object().unwrap() {
        let input = &theirs["operations"][op]["input"]["shape"];
        if *input != spec["input"]["shape"] {
            differences.push(format!("operation {op}: input {input} in botocore"));
        }
    }
    for (name, shape) in ours["shapes"].as_object().unwrap() {
        match theirs["shapes"].get(name) {
            None => differences.push(format!("shape {name} is not in botocore's model")),
            Some(t) if stated(t) != *shape => differences.push(format!(
                "shape {name}:\n  botocore {}\n  docclass {shape}",
                stated(t)
            )),
            Some(_) => {}
        }
    }
    assert!(
        differences.is_empty(),
        "{} difference(s):\n{}",
        differences.len(),
        differences.join("\n")
    );
}
