//! Records as clients see them: Comprehend's members only (docclass's own counters, process ids
//! and host paths under `Docclass` stay in the store), and messages without host paths.

use serde_json::Value;

use super::runtime::Service;
use crate::job::record::JobRecord;
use crate::model::ClassifierRecord;

/// A job's `DocumentClassificationJobProperties` for a response.
pub fn job(service: &Service, record: &JobRecord) -> Value {
    let mut v = serde_json::to_value(record).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.remove("Docclass");
        if let Some(Value::String(m)) = o.get_mut("Message") {
            *m = service.public(m);
        }
    }
    v
}

/// A classifier's `DocumentClassifierProperties` for a response.
pub fn classifier(service: &Service, mut record: ClassifierRecord) -> ClassifierRecord {
    record.message = record.message.map(|m| service.public(&m));
    record
}
