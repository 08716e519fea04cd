//! Records as clients see them: Comprehend's members, plus a running job's progress under
//! `Docclass` (docclass's other counters, process ids and host paths stay in the store; clients
//! ignore members their API model does not have), and messages without host paths.

use serde_json::Value;

use super::runtime::Service;
use crate::job::record::JobRecord;
use crate::model::ClassifierRecord;

/// A job's `DocumentClassificationJobProperties` for a response.
pub fn job(service: &Service, record: &JobRecord) -> Value {
    let mut v = serde_json::to_value(record).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        let progress = o
            .remove("Docclass")
            .and_then(|mut d| d.as_object_mut().and_then(|d| d.remove("Progress")));
        if let Some(p) = progress {
            o.insert("Docclass".into(), serde_json::json!({ "Progress": p }));
        }
        if let Some(Value::String(m)) = o.get_mut("Message") {
            *m = service.public(m);
        }
    }
    v
}

/// A classifier's `DocumentClassifierProperties` for a response.
pub fn classifier(service: &Service, mut record: ClassifierRecord) -> ClassifierRecord {
    record.message = record.message.map(|m| service.public(&m));
    record.with_defaults()
}
