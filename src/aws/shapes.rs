//! Comprehend's API model, as far as docclass serves it: every input shape of the operations it
//! answers, with the constraints the model gives each member (required, length, pattern, enum,
//! range). Requests are validated against this one table, and so are the values the CLI takes
//! in Comprehend's own words (job names, ARNs), so both fronts refuse exactly what Comprehend
//! refuses. The table's names and constraints are the API model's; a test compares them with
//! botocore's copy of the model (`to_botocore_json`).

use std::sync::OnceLock;

use base64::Engine;
use regex::Regex;
use serde_json::{json, Map, Value};

/// One shape of the API model.
pub struct Shape {
    pub name: &'static str,
    pub kind: Kind,
    /// The pattern, compiled on first use.
    regex: OnceLock<Pattern>,
}

/// What a shape is, with its constraints.
pub enum Kind {
    String {
        min: Option<u64>,
        max: Option<u64>,
        pattern: Option<&'static str>,
        values: &'static [&'static str],
    },
    Integer {
        min: Option<i64>,
        max: Option<i64>,
    },
    /// Epoch seconds on the wire (JSON 1.1).
    Timestamp,
    /// Base64 text on the wire; lengths count decoded bytes.
    Blob {
        min: Option<u64>,
        max: Option<u64>,
    },
    List {
        member: &'static Shape,
        min: Option<u64>,
        max: Option<u64>,
    },
    Structure {
        members: &'static [(&'static str, &'static Shape)],
        required: &'static [&'static str],
    },
}

/// A pattern of the API model. The model's patterns are Java regular expressions; the one
/// construct among them that Rust's `regex` lacks, a leading negative lookahead (`^(?!X)Y$`),
/// is checked as two expressions: `Y` must match the whole string and `X` must not match at its
/// start.
struct Pattern {
    whole: Regex,
    not_at_start: Option<Regex>,
}

impl Pattern {
    fn compile(p: &str) -> Pattern {
        let anchored = |body: &str| {
            Regex::new(&format!("^(?:{body})$")).expect("the API model's patterns compile")
        };
        if let Some(rest) = p.strip_prefix("^(?!") {
            if let Some(close) = closing_paren(rest) {
                let ahead = &rest[..close];
                let body = rest[close + 1..].trim_end_matches('$');
                return Pattern {
                    whole: anchored(body),
                    not_at_start: Some(
                        Regex::new(&format!("^(?:{ahead})")).expect("the lookahead compiles"),
                    ),
                };
            }
        }
        Pattern {
            whole: anchored(p),
            not_at_start: None,
        }
    }

    fn is_match(&self, s: &str) -> bool {
        self.whole.is_match(s) && !self.not_at_start.as_ref().is_some_and(|r| r.is_match(s))
    }
}

/// The index of the `)` closing a group whose `(` came just before `text`.
fn closing_paren(text: &str) -> Option<usize> {
    let b = text.as_bytes();
    let (mut depth, mut i, mut in_class) = (0usize, 0, false);
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'[' if !in_class => in_class = true,
            b']' if in_class => in_class = false,
            b'(' if !in_class => depth += 1,
            b')' if !in_class => {
                if depth == 0 {
                    return Some(i);
                }
                depth -= 1;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Why a request does not fit the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    /// A value of the wrong JSON type (Comprehend answers SerializationException).
    Type {
        path: String,
        expected: &'static str,
    },
    /// A value outside its constraints (InvalidRequestException, AWS's validation wording).
    Constraint { path: String, message: String },
}

impl Violation {
    pub fn message(&self) -> String {
        match self {
            Violation::Type { path, expected } => format!("'{path}' must be {expected}"),
            Violation::Constraint { message, .. } => message.clone(),
        }
    }
}

fn constraint(path: &str, value: &str, what: &str) -> Violation {
    Violation::Constraint {
        path: path.into(),
        message: format!(
            "1 validation error detected: Value '{value}' at '{path}' failed to satisfy constraint: Member must {what}"
        ),
    }
}

fn length_rule(min: Option<u64>, max: Option<u64>) -> String {
    match (min, max) {
        (Some(lo), Some(hi)) => format!("have length between {lo} and {hi}"),
        (Some(lo), None) => format!("have length greater than or equal to {lo}"),
        (None, Some(hi)) => format!("have length less than or equal to {hi}"),
        (None, None) => String::new(),
    }
}

fn outside(n: u64, min: Option<u64>, max: Option<u64>) -> bool {
    min.is_some_and(|lo| n < lo) || max.is_some_and(|hi| n > hi)
}

fn check_range(n: i64, min: Option<i64>, max: Option<i64>, path: &str) -> Result<(), Violation> {
    if min.is_some_and(|lo| n < lo) || max.is_some_and(|hi| n > hi) {
        let rule = match (min, max) {
            (Some(lo), Some(hi)) => format!("have value between {lo} and {hi}"),
            (Some(lo), None) => format!("have value greater than or equal to {lo}"),
            (None, Some(hi)) => format!("have value less than or equal to {hi}"),
            (None, None) => String::new(),
        };
        return Err(constraint(path, &n.to_string(), &rule));
    }
    Ok(())
}

/// A structure's required members first, then every member present against its shape.
fn check_members(
    map: &Map<String, Value>,
    members: &[(&'static str, &'static Shape)],
    required: &[&'static str],
    path: &str,
) -> Result<(), Violation> {
    let join = |name: &str| {
        if path.is_empty() {
            name.to_string()
        } else {
            format!("{path}.{name}")
        }
    };
    for r in required {
        if map.get(*r).is_none_or(Value::is_null) {
            let at = join(r);
            return Err(Violation::Constraint {
                message: format!(
                    "1 validation error detected: Value null at '{at}' failed to satisfy constraint: Member must not be null"
                ),
                path: at,
            });
        }
    }
    for (name, shape) in members {
        if let Some(v) = map.get(*name) {
            shape.validate(v, &join(name))?;
        }
    }
    Ok(())
}

impl Shape {
    pub const fn string(
        name: &'static str,
        min: Option<u64>,
        max: Option<u64>,
        pattern: Option<&'static str>,
        values: &'static [&'static str],
    ) -> Shape {
        Shape::new(
            name,
            Kind::String {
                min,
                max,
                pattern,
                values,
            },
        )
    }

    pub const fn integer(name: &'static str, min: Option<i64>, max: Option<i64>) -> Shape {
        Shape::new(name, Kind::Integer { min, max })
    }

    pub const fn timestamp(name: &'static str) -> Shape {
        Shape::new(name, Kind::Timestamp)
    }

    pub const fn blob(name: &'static str, min: Option<u64>, max: Option<u64>) -> Shape {
        Shape::new(name, Kind::Blob { min, max })
    }

    pub const fn list(
        name: &'static str,
        member: &'static Shape,
        min: Option<u64>,
        max: Option<u64>,
    ) -> Shape {
        Shape::new(name, Kind::List { member, min, max })
    }

    pub const fn structure(
        name: &'static str,
        members: &'static [(&'static str, &'static Shape)],
        required: &'static [&'static str],
    ) -> Shape {
        Shape::new(name, Kind::Structure { members, required })
    }

    const fn new(name: &'static str, kind: Kind) -> Shape {
        Shape {
            name,
            kind,
            regex: OnceLock::new(),
        }
    }

    /// Whether a string fits this string shape (length, pattern, enum), as a plain check for
    /// values that do not come from a request (CLI flags, ARNs in paths).
    pub fn accepts(&self, s: &str) -> bool {
        self.check_string(s, "").is_ok()
    }

    /// Checks `value` against the shape; `path` names it in messages (`InputDataConfig.S3Uri`).
    pub fn validate(&self, value: &Value, path: &str) -> Result<(), Violation> {
        if value.is_null() {
            return Ok(());
        }
        let wrong = |expected| Violation::Type {
            path: path.into(),
            expected,
        };
        match &self.kind {
            Kind::String { .. } => match value {
                Value::String(s) => self.check_string(s, path),
                _ => Err(wrong("a string")),
            },
            Kind::Integer { min, max } => {
                let n = value.as_i64().ok_or_else(|| wrong("an integer"))?;
                check_range(n, *min, *max, path)
            }
            Kind::Timestamp => match value {
                Value::Number(_) => Ok(()),
                _ => Err(wrong("a timestamp (epoch seconds)")),
            },
            Kind::Blob { min, max } => {
                let bytes = value
                    .as_str()
                    .and_then(|t| base64::engine::general_purpose::STANDARD.decode(t).ok())
                    .ok_or_else(|| wrong("base64 text"))?;
                if outside(bytes.len() as u64, *min, *max) {
                    return Err(constraint(path, "(bytes)", &length_rule(*min, *max)));
                }
                Ok(())
            }
            Kind::List { member, min, max } => {
                let items = value.as_array().ok_or_else(|| wrong("a list"))?;
                if outside(items.len() as u64, *min, *max) {
                    let what = length_rule(*min, *max);
                    return Err(constraint(path, &value.to_string(), &what));
                }
                for (i, item) in items.iter().enumerate() {
                    member.validate(item, &format!("{path}.{}", i + 1))?;
                }
                Ok(())
            }
            Kind::Structure { members, required } => {
                let map = value.as_object().ok_or_else(|| wrong("a structure"))?;
                check_members(map, members, required, path)
            }
        }
    }

    fn check_string(&self, s: &str, path: &str) -> Result<(), Violation> {
        let Kind::String {
            min,
            max,
            pattern,
            values,
        } = &self.kind
        else {
            return Err(Violation::Type {
                path: path.into(),
                expected: "a string",
            });
        };
        if outside(s.chars().count() as u64, *min, *max) {
            return Err(constraint(path, s, &length_rule(*min, *max)));
        }
        if let Some(p) = pattern {
            let re = self.regex.get_or_init(|| Pattern::compile(p));
            if !re.is_match(s) {
                let what = format!("satisfy regular expression pattern: {p}");
                return Err(constraint(path, s, &what));
            }
        }
        if !values.is_empty() && !values.contains(&s) {
            let what = format!("satisfy enum value set: [{}]", values.join(", "));
            return Err(constraint(path, s, &what));
        }
        Ok(())
    }

    /// The shape as botocore writes it in `service-2.json` (type and constraints; members by
    /// shape name), for comparison with the model clients use.
    pub fn to_botocore_json(&self) -> Value {
        let mut m = Map::new();
        let mut put = |k: &str, v: Value| {
            m.insert(k.into(), v);
        };
        let num = |put: &mut dyn FnMut(&str, Value), k: &str, v: Option<u64>| {
            if let Some(v) = v {
                put(k, json!(v));
            }
        };
        match &self.kind {
            Kind::String {
                min,
                max,
                pattern,
                values,
            } => {
                put("type", json!("string"));
                num(&mut put, "min", *min);
                num(&mut put, "max", *max);
                if let Some(p) = pattern {
                    put("pattern", json!(p));
                }
                if !values.is_empty() {
                    put("enum", json!(values));
                }
            }
            Kind::Integer { min, max } => {
                put("type", json!("integer"));
                if let Some(v) = min {
                    put("min", json!(v));
                }
                if let Some(v) = max {
                    put("max", json!(v));
                }
            }
            Kind::Timestamp => put("type", json!("timestamp")),
            Kind::Blob { min, max } => {
                put("type", json!("blob"));
                num(&mut put, "min", *min);
                num(&mut put, "max", *max);
            }
            Kind::List { member, min, max } => {
                put("type", json!("list"));
                put("member", json!({"shape": member.name}));
                num(&mut put, "min", *min);
                num(&mut put, "max", *max);
            }
            Kind::Structure { members, required } => {
                put("type", json!("structure"));
                let ms: Map<String, Value> = members
                    .iter()
                    .map(|(k, s)| (k.to_string(), json!({"shape": s.name})))
                    .collect();
                put("members", Value::Object(ms));
                if !required.is_empty() {
                    put("required", json!(required));
                }
            }
        }
        Value::Object(m)
    }
}

/// The input shape of `operation`, if docclass's table has it.
pub fn input_shape(operation: &str) -> Option<&'static Shape> {
    OPERATIONS
        .iter()
        .find(|(name, _)| *name == operation)
        .map(|(_, s)| *s)
}

/// The table in botocore's layout: `{"operations": {Op: {"input": {"shape": ...}}}, "shapes":
/// {Name: {...}}}`, every shape reachable from the operations' inputs included once.
pub fn to_botocore_json() -> Value {
    fn collect(s: &'static Shape, out: &mut Map<String, Value>) {
        if out.contains_key(s.name) {
            return;
        }
        out.insert(s.name.into(), s.to_botocore_json());
        match &s.kind {
            Kind::List { member, .. } => collect(member, out),
            Kind::Structure { members, .. } => {
                for (_, m) in *members {
                    collect(m, out);
                }
            }
            _ => {}
        }
    }
    let mut shapes = Map::new();
    let mut ops = Map::new();
    for (op, shape) in OPERATIONS {
        ops.insert(op.to_string(), json!({"input": {"shape": shape.name}}));
        collect(shape, &mut shapes);
    }
    json!({"operations": ops, "shapes": shapes})
}

// The table. Names, constraints and members as in Comprehend's API model (2017-11-27).

pub static ATTRIBUTE_NAMES_LIST: Shape =
    Shape::list("AttributeNamesList", &ATTRIBUTE_NAMES_LIST_ITEM, None, None);

pub static ATTRIBUTE_NAMES_LIST_ITEM: Shape = Shape::string(
    "AttributeNamesListItem",
    Some(1),
    Some(63),
    Some(r#"^[a-zA-Z0-9](-*[a-zA-Z0-9])*"#),
    &[],
);

pub static AUGMENTED_MANIFESTS_DOCUMENT_TYPE_FORMAT: Shape = Shape::string(
    "AugmentedManifestsDocumentTypeFormat",
    None,
    None,
    None,
    &["PLAIN_TEXT_DOCUMENT", "SEMI_STRUCTURED_DOCUMENT"],
);

pub static AUGMENTED_MANIFESTS_LIST_ITEM: Shape = Shape::structure(
    "AugmentedManifestsListItem",
    &[
        ("S3Uri", &S3_URI),
        ("Split", &SPLIT),
        ("AttributeNames", &ATTRIBUTE_NAMES_LIST),
        ("AnnotationDataS3Uri", &S3_URI),
        ("SourceDocumentsS3Uri", &S3_URI),
        ("DocumentType", &AUGMENTED_MANIFESTS_DOCUMENT_TYPE_FORMAT),
    ],
    &["S3Uri", "AttributeNames"],
);

pub static CLASSIFY_DOCUMENT_REQUEST: Shape = Shape::structure(
    "ClassifyDocumentRequest",
    &[
        ("Text", &CUSTOMER_INPUT_STRING),
        ("EndpointArn", &DOCUMENT_CLASSIFIER_ENDPOINT_ARN),
        ("Bytes", &SEMI_STRUCTURED_DOCUMENT_BLOB),
        ("DocumentReaderConfig", &DOCUMENT_READER_CONFIG),
    ],
    &["EndpointArn"],
);

pub static CLIENT_REQUEST_TOKEN_STRING: Shape = Shape::string(
    "ClientRequestTokenString",
    Some(1),
    Some(64),
    Some(r#"^[a-zA-Z0-9-]+$"#),
    &[],
);

pub static COMPREHEND_ARN: Shape = Shape::string(
    "ComprehendArn",
    None,
    Some(256),
    Some(
        r#"arn:aws(-[^:]+)?:comprehend:[a-zA-Z0-9-]*:[0-9]{12}:[a-zA-Z0-9-]{1,64}/[a-zA-Z0-9](-*[a-zA-Z0-9])*((/dataset/[a-zA-Z0-9](-*[a-zA-Z0-9])*)|(/version/[a-zA-Z0-9](-*[a-zA-Z0-9])*))?"#,
    ),
    &[],
);

pub static COMPREHEND_ARN_NAME: Shape = Shape::string(
    "ComprehendArnName",
    None,
    Some(63),
    Some(r#"^[a-zA-Z0-9](-*[a-zA-Z0-9])*$"#),
    &[],
);

pub static COMPREHEND_ENDPOINT_ARN: Shape = Shape::string(
    "ComprehendEndpointArn",
    None,
    Some(256),
    Some(
        r#"arn:aws(-[^:]+)?:comprehend:[a-zA-Z0-9-]*:[0-9]{12}:(document-classifier-endpoint|entity-recognizer-endpoint)/[a-zA-Z0-9](-*[a-zA-Z0-9])*"#,
    ),
    &[],
);

pub static COMPREHEND_ENDPOINT_NAME: Shape = Shape::string(
    "ComprehendEndpointName",
    None,
    Some(40),
    Some(r#"^[a-zA-Z0-9](-*[a-zA-Z0-9])*$"#),
    &[],
);

pub static COMPREHEND_FLYWHEEL_ARN: Shape = Shape::string(
    "ComprehendFlywheelArn",
    None,
    Some(256),
    Some(
        r#"arn:aws(-[^:]+)?:comprehend:[a-zA-Z0-9-]*:[0-9]{12}:flywheel/[a-zA-Z0-9](-*[a-zA-Z0-9])*"#,
    ),
    &[],
);

pub static COMPREHEND_MODEL_ARN: Shape = Shape::string(
    "ComprehendModelArn",
    None,
    Some(256),
    Some(
        r#"arn:aws(-[^:]+)?:comprehend:[a-zA-Z0-9-]*:[0-9]{12}:(document-classifier|entity-recognizer)/[a-zA-Z0-9](-*[a-zA-Z0-9])*(/version/[a-zA-Z0-9](-*[a-zA-Z0-9])*)?"#,
    ),
    &[],
);

pub static CREATE_DOCUMENT_CLASSIFIER_REQUEST: Shape = Shape::structure(
    "CreateDocumentClassifierRequest",
    &[
        ("DocumentClassifierName", &COMPREHEND_ARN_NAME),
        ("VersionName", &VERSION_NAME),
        ("DataAccessRoleArn", &IAM_ROLE_ARN),
        ("Tags", &TAG_LIST),
        ("InputDataConfig", &DOCUMENT_CLASSIFIER_INPUT_DATA_CONFIG),
        ("OutputDataConfig", &DOCUMENT_CLASSIFIER_OUTPUT_DATA_CONFIG),
        ("ClientRequestToken", &CLIENT_REQUEST_TOKEN_STRING),
        ("LanguageCode", &LANGUAGE_CODE),
        ("VolumeKmsKeyId", &KMS_KEY_ID),
        ("VpcConfig", &VPC_CONFIG),
        ("Mode", &DOCUMENT_CLASSIFIER_MODE),
        ("ModelKmsKeyId", &KMS_KEY_ID),
        ("ModelPolicy", &POLICY),
    ],
    &[
        "DocumentClassifierName",
        "DataAccessRoleArn",
        "InputDataConfig",
        "LanguageCode",
    ],
);

pub static CREATE_ENDPOINT_REQUEST: Shape = Shape::structure(
    "CreateEndpointRequest",
    &[
        ("EndpointName", &COMPREHEND_ENDPOINT_NAME),
        ("ModelArn", &COMPREHEND_MODEL_ARN),
        ("DesiredInferenceUnits", &INFERENCE_UNITS_INTEGER),
        ("ClientRequestToken", &CLIENT_REQUEST_TOKEN_STRING),
        ("Tags", &TAG_LIST),
        ("DataAccessRoleArn", &IAM_ROLE_ARN),
        ("FlywheelArn", &COMPREHEND_FLYWHEEL_ARN),
    ],
    &["EndpointName", "DesiredInferenceUnits"],
);

pub static CUSTOMER_INPUT_STRING: Shape =
    Shape::string("CustomerInputString", Some(1), None, None, &[]);

pub static DELETE_DOCUMENT_CLASSIFIER_REQUEST: Shape = Shape::structure(
    "DeleteDocumentClassifierRequest",
    &[("DocumentClassifierArn", &DOCUMENT_CLASSIFIER_ARN)],
    &["DocumentClassifierArn"],
);

pub static DELETE_ENDPOINT_REQUEST: Shape = Shape::structure(
    "DeleteEndpointRequest",
    &[("EndpointArn", &COMPREHEND_ENDPOINT_ARN)],
    &["EndpointArn"],
);

pub static DESCRIBE_DOCUMENT_CLASSIFICATION_JOB_REQUEST: Shape = Shape::structure(
    "DescribeDocumentClassificationJobRequest",
    &[("JobId", &JOB_ID)],
    &["JobId"],
);

pub static DESCRIBE_DOCUMENT_CLASSIFIER_REQUEST: Shape = Shape::structure(
    "DescribeDocumentClassifierRequest",
    &[("DocumentClassifierArn", &DOCUMENT_CLASSIFIER_ARN)],
    &["DocumentClassifierArn"],
);

pub static DESCRIBE_ENDPOINT_REQUEST: Shape = Shape::structure(
    "DescribeEndpointRequest",
    &[("EndpointArn", &COMPREHEND_ENDPOINT_ARN)],
    &["EndpointArn"],
);

pub static DOCUMENT_CLASSIFICATION_JOB_FILTER: Shape = Shape::structure(
    "DocumentClassificationJobFilter",
    &[
        ("JobName", &JOB_NAME),
        ("JobStatus", &JOB_STATUS),
        ("SubmitTimeBefore", &TIMESTAMP),
        ("SubmitTimeAfter", &TIMESTAMP),
    ],
    &[],
);

pub static DOCUMENT_CLASSIFIER_ARN: Shape = Shape::string(
    "DocumentClassifierArn",
    None,
    Some(256),
    Some(
        r#"arn:aws(-[^:]+)?:comprehend:[a-zA-Z0-9-]*:[0-9]{12}:document-classifier/[a-zA-Z0-9](-*[a-zA-Z0-9])*(/version/[a-zA-Z0-9](-*[a-zA-Z0-9])*)?"#,
    ),
    &[],
);

pub static DOCUMENT_CLASSIFIER_AUGMENTED_MANIFESTS_LIST: Shape = Shape::list(
    "DocumentClassifierAugmentedManifestsList",
    &AUGMENTED_MANIFESTS_LIST_ITEM,
    None,
    None,
);

pub static DOCUMENT_CLASSIFIER_DATA_FORMAT: Shape = Shape::string(
    "DocumentClassifierDataFormat",
    None,
    None,
    None,
    &["COMPREHEND_CSV", "AUGMENTED_MANIFEST"],
);

pub static DOCUMENT_CLASSIFIER_DOCUMENT_TYPE_FORMAT: Shape = Shape::string(
    "DocumentClassifierDocumentTypeFormat",
    None,
    None,
    None,
    &["PLAIN_TEXT_DOCUMENT", "SEMI_STRUCTURED_DOCUMENT"],
);

pub static DOCUMENT_CLASSIFIER_DOCUMENTS: Shape = Shape::structure(
    "DocumentClassifierDocuments",
    &[("S3Uri", &S3_URI), ("TestS3Uri", &S3_URI)],
    &["S3Uri"],
);

pub static DOCUMENT_CLASSIFIER_ENDPOINT_ARN: Shape = Shape::string(
    "DocumentClassifierEndpointArn",
    None,
    Some(256),
    Some(
        r#"arn:aws(-[^:]+)?:comprehend:[a-zA-Z0-9-]*:([0-9]{12}|aws):document-classifier-endpoint/[a-zA-Z0-9](-*[a-zA-Z0-9])*"#,
    ),
    &[],
);

pub static DOCUMENT_CLASSIFIER_FILTER: Shape = Shape::structure(
    "DocumentClassifierFilter",
    &[
        ("Status", &MODEL_STATUS),
        ("DocumentClassifierName", &COMPREHEND_ARN_NAME),
        ("SubmitTimeBefore", &TIMESTAMP),
        ("SubmitTimeAfter", &TIMESTAMP),
    ],
    &[],
);

pub static DOCUMENT_CLASSIFIER_INPUT_DATA_CONFIG: Shape = Shape::structure(
    "DocumentClassifierInputDataConfig",
    &[
        ("DataFormat", &DOCUMENT_CLASSIFIER_DATA_FORMAT),
        ("S3Uri", &S3_URI),
        ("TestS3Uri", &S3_URI),
        ("LabelDelimiter", &LABEL_DELIMITER),
        (
            "AugmentedManifests",
            &DOCUMENT_CLASSIFIER_AUGMENTED_MANIFESTS_LIST,
        ),
        ("DocumentType", &DOCUMENT_CLASSIFIER_DOCUMENT_TYPE_FORMAT),
        ("Documents", &DOCUMENT_CLASSIFIER_DOCUMENTS),
        ("DocumentReaderConfig", &DOCUMENT_READER_CONFIG),
    ],
    &[],
);

pub static DOCUMENT_CLASSIFIER_MODE: Shape = Shape::string(
    "DocumentClassifierMode",
    None,
    None,
    None,
    &["MULTI_CLASS", "MULTI_LABEL"],
);

pub static DOCUMENT_CLASSIFIER_OUTPUT_DATA_CONFIG: Shape = Shape::structure(
    "DocumentClassifierOutputDataConfig",
    &[
        ("S3Uri", &S3_URI),
        ("KmsKeyId", &KMS_KEY_ID),
        ("FlywheelStatsS3Prefix", &S3_URI),
    ],
    &[],
);

pub static DOCUMENT_READ_ACTION: Shape = Shape::string(
    "DocumentReadAction",
    None,
    None,
    None,
    &["TEXTRACT_DETECT_DOCUMENT_TEXT", "TEXTRACT_ANALYZE_DOCUMENT"],
);

pub static DOCUMENT_READ_FEATURE_TYPES: Shape = Shape::string(
    "DocumentReadFeatureTypes",
    None,
    None,
    None,
    &["TABLES", "FORMS"],
);

pub static DOCUMENT_READ_MODE: Shape = Shape::string(
    "DocumentReadMode",
    None,
    None,
    None,
    &["SERVICE_DEFAULT", "FORCE_DOCUMENT_READ_ACTION"],
);

pub static DOCUMENT_READER_CONFIG: Shape = Shape::structure(
    "DocumentReaderConfig",
    &[
        ("DocumentReadAction", &DOCUMENT_READ_ACTION),
        ("DocumentReadMode", &DOCUMENT_READ_MODE),
        ("FeatureTypes", &LIST_OF_DOCUMENT_READ_FEATURE_TYPES),
    ],
    &["DocumentReadAction"],
);

pub static ENDPOINT_FILTER: Shape = Shape::structure(
    "EndpointFilter",
    &[
        ("ModelArn", &COMPREHEND_MODEL_ARN),
        ("Status", &ENDPOINT_STATUS),
        ("CreationTimeBefore", &TIMESTAMP),
        ("CreationTimeAfter", &TIMESTAMP),
    ],
    &[],
);

pub static ENDPOINT_STATUS: Shape = Shape::string(
    "EndpointStatus",
    None,
    None,
    None,
    &["CREATING", "DELETING", "FAILED", "IN_SERVICE", "UPDATING"],
);

pub static IAM_ROLE_ARN: Shape = Shape::string(
    "IamRoleArn",
    Some(20),
    Some(2048),
    Some(r#"arn:aws(-[^:]+)?:iam::[0-9]{12}:role/.+"#),
    &[],
);

pub static INFERENCE_UNITS_INTEGER: Shape = Shape::integer("InferenceUnitsInteger", Some(1), None);

pub static INPUT_DATA_CONFIG: Shape = Shape::structure(
    "InputDataConfig",
    &[
        ("S3Uri", &S3_URI),
        ("InputFormat", &INPUT_FORMAT),
        ("DocumentReaderConfig", &DOCUMENT_READER_CONFIG),
    ],
    &["S3Uri"],
);

pub static INPUT_FORMAT: Shape = Shape::string(
    "InputFormat",
    None,
    None,
    None,
    &["ONE_DOC_PER_FILE", "ONE_DOC_PER_LINE"],
);

pub static JOB_ID: Shape = Shape::string(
    "JobId",
    Some(1),
    Some(32),
    Some(r#"^([\p{L}\p{Z}\p{N}_.:/=+\-%@]*)$"#),
    &[],
);

pub static JOB_NAME: Shape = Shape::string(
    "JobName",
    Some(1),
    Some(256),
    Some(r#"^([\p{L}\p{Z}\p{N}_.:/=+\-%@]*)$"#),
    &[],
);

pub static JOB_STATUS: Shape = Shape::string(
    "JobStatus",
    None,
    None,
    None,
    &[
        "SUBMITTED",
        "IN_PROGRESS",
        "COMPLETED",
        "FAILED",
        "STOP_REQUESTED",
        "STOPPED",
    ],
);

pub static KMS_KEY_ID: Shape =
    Shape::string("KmsKeyId", None, Some(2048), Some(r#"^\p{ASCII}+$"#), &[]);

pub static LABEL_DELIMITER: Shape = Shape::string(
    "LabelDelimiter",
    Some(1),
    Some(1),
    Some(r#"^[ ~!@#$%^*\-_+=|\\:;\t>?/]$"#),
    &[],
);

pub static LANGUAGE_CODE: Shape = Shape::string(
    "LanguageCode",
    None,
    None,
    None,
    &[
        "en", "es", "fr", "de", "it", "pt", "ar", "hi", "ja", "ko", "zh", "zh-TW",
    ],
);

pub static LIST_DOCUMENT_CLASSIFICATION_JOBS_REQUEST: Shape = Shape::structure(
    "ListDocumentClassificationJobsRequest",
    &[
        ("Filter", &DOCUMENT_CLASSIFICATION_JOB_FILTER),
        ("NextToken", &STRING),
        ("MaxResults", &MAX_RESULTS_INTEGER),
    ],
    &[],
);

pub static LIST_DOCUMENT_CLASSIFIER_SUMMARIES_REQUEST: Shape = Shape::structure(
    "ListDocumentClassifierSummariesRequest",
    &[("NextToken", &STRING), ("MaxResults", &MAX_RESULTS_INTEGER)],
    &[],
);

pub static LIST_DOCUMENT_CLASSIFIERS_REQUEST: Shape = Shape::structure(
    "ListDocumentClassifiersRequest",
    &[
        ("Filter", &DOCUMENT_CLASSIFIER_FILTER),
        ("NextToken", &STRING),
        ("MaxResults", &MAX_RESULTS_INTEGER),
    ],
    &[],
);

pub static LIST_ENDPOINTS_REQUEST: Shape = Shape::structure(
    "ListEndpointsRequest",
    &[
        ("Filter", &ENDPOINT_FILTER),
        ("NextToken", &STRING),
        ("MaxResults", &MAX_RESULTS_INTEGER),
    ],
    &[],
);

pub static LIST_OF_DOCUMENT_READ_FEATURE_TYPES: Shape = Shape::list(
    "ListOfDocumentReadFeatureTypes",
    &DOCUMENT_READ_FEATURE_TYPES,
    Some(1),
    Some(2),
);

pub static LIST_TAGS_FOR_RESOURCE_REQUEST: Shape = Shape::structure(
    "ListTagsForResourceRequest",
    &[("ResourceArn", &COMPREHEND_ARN)],
    &["ResourceArn"],
);

pub static MAX_RESULTS_INTEGER: Shape = Shape::integer("MaxResultsInteger", Some(1), Some(500));

pub static MODEL_STATUS: Shape = Shape::string(
    "ModelStatus",
    None,
    None,
    None,
    &[
        "SUBMITTED",
        "TRAINING",
        "DELETING",
        "STOP_REQUESTED",
        "STOPPED",
        "IN_ERROR",
        "TRAINED",
        "TRAINED_WITH_WARNING",
    ],
);

pub static OUTPUT_DATA_CONFIG: Shape = Shape::structure(
    "OutputDataConfig",
    &[("S3Uri", &S3_URI), ("KmsKeyId", &KMS_KEY_ID)],
    &["S3Uri"],
);

pub static POLICY: Shape = Shape::string(
    "Policy",
    Some(1),
    Some(20000),
    Some(r#"[\u0009\u000A\u000D\u0020-\u00FF]+"#),
    &[],
);

pub static S3_URI: Shape = Shape::string(
    "S3Uri",
    None,
    Some(1024),
    Some(r#"s3://[a-z0-9][\.\-a-z0-9]{1,61}[a-z0-9](/.*)?"#),
    &[],
);

pub static SECURITY_GROUP_ID: Shape = Shape::string(
    "SecurityGroupId",
    Some(1),
    Some(32),
    Some(r#"[-0-9a-zA-Z]+"#),
    &[],
);

pub static SECURITY_GROUP_IDS: Shape =
    Shape::list("SecurityGroupIds", &SECURITY_GROUP_ID, Some(1), Some(5));

pub static SEMI_STRUCTURED_DOCUMENT_BLOB: Shape =
    Shape::blob("SemiStructuredDocumentBlob", Some(1), None);

pub static SPLIT: Shape = Shape::string("Split", None, None, None, &["TRAIN", "TEST"]);

pub static START_DOCUMENT_CLASSIFICATION_JOB_REQUEST: Shape = Shape::structure(
    "StartDocumentClassificationJobRequest",
    &[
        ("JobName", &JOB_NAME),
        ("DocumentClassifierArn", &DOCUMENT_CLASSIFIER_ARN),
        ("InputDataConfig", &INPUT_DATA_CONFIG),
        ("OutputDataConfig", &OUTPUT_DATA_CONFIG),
        ("DataAccessRoleArn", &IAM_ROLE_ARN),
        ("ClientRequestToken", &CLIENT_REQUEST_TOKEN_STRING),
        ("VolumeKmsKeyId", &KMS_KEY_ID),
        ("VpcConfig", &VPC_CONFIG),
        ("Tags", &TAG_LIST),
        ("FlywheelArn", &COMPREHEND_FLYWHEEL_ARN),
    ],
    &["InputDataConfig", "OutputDataConfig", "DataAccessRoleArn"],
);

pub static STOP_TRAINING_DOCUMENT_CLASSIFIER_REQUEST: Shape = Shape::structure(
    "StopTrainingDocumentClassifierRequest",
    &[("DocumentClassifierArn", &DOCUMENT_CLASSIFIER_ARN)],
    &["DocumentClassifierArn"],
);

pub static STRING: Shape = Shape::string("String", Some(1), None, None, &[]);

pub static SUBNET_ID: Shape =
    Shape::string("SubnetId", Some(1), Some(32), Some(r#"[-0-9a-zA-Z]+"#), &[]);

pub static SUBNETS: Shape = Shape::list("Subnets", &SUBNET_ID, Some(1), Some(16));

pub static TAG: Shape =
    Shape::structure("Tag", &[("Key", &TAG_KEY), ("Value", &TAG_VALUE)], &["Key"]);

pub static TAG_KEY: Shape = Shape::string("TagKey", Some(1), Some(128), None, &[]);

pub static TAG_KEY_LIST: Shape = Shape::list("TagKeyList", &TAG_KEY, None, None);

pub static TAG_LIST: Shape = Shape::list("TagList", &TAG, None, None);

pub static TAG_RESOURCE_REQUEST: Shape = Shape::structure(
    "TagResourceRequest",
    &[("ResourceArn", &COMPREHEND_ARN), ("Tags", &TAG_LIST)],
    &["ResourceArn", "Tags"],
);

pub static TAG_VALUE: Shape = Shape::string("TagValue", Some(0), Some(256), None, &[]);

pub static TIMESTAMP: Shape = Shape::timestamp("Timestamp");

pub static UNTAG_RESOURCE_REQUEST: Shape = Shape::structure(
    "UntagResourceRequest",
    &[("ResourceArn", &COMPREHEND_ARN), ("TagKeys", &TAG_KEY_LIST)],
    &["ResourceArn", "TagKeys"],
);

pub static UPDATE_ENDPOINT_REQUEST: Shape = Shape::structure(
    "UpdateEndpointRequest",
    &[
        ("EndpointArn", &COMPREHEND_ENDPOINT_ARN),
        ("DesiredModelArn", &COMPREHEND_MODEL_ARN),
        ("DesiredInferenceUnits", &INFERENCE_UNITS_INTEGER),
        ("DesiredDataAccessRoleArn", &IAM_ROLE_ARN),
        ("FlywheelArn", &COMPREHEND_FLYWHEEL_ARN),
    ],
    &["EndpointArn"],
);

pub static VERSION_NAME: Shape = Shape::string(
    "VersionName",
    None,
    Some(63),
    Some(r#"^[a-zA-Z0-9](-*[a-zA-Z0-9])*$"#),
    &[],
);

pub static VPC_CONFIG: Shape = Shape::structure(
    "VpcConfig",
    &[
        ("SecurityGroupIds", &SECURITY_GROUP_IDS),
        ("Subnets", &SUBNETS),
    ],
    &["SecurityGroupIds", "Subnets"],
);

// Flywheels and their datasets and iterations.

pub static COMPREHEND_DATASET_ARN: Shape = Shape::string(
    "ComprehendDatasetArn",
    None,
    Some(256),
    Some(
        r#"arn:aws(-[^:]+)?:comprehend:[a-zA-Z0-9-]*:[0-9]{12}:flywheel/[a-zA-Z0-9](-*[a-zA-Z0-9])*/dataset/[a-zA-Z0-9](-*[a-zA-Z0-9])*"#,
    ),
    &[],
);

pub static CREATE_DATASET_REQUEST: Shape = Shape::structure(
    "CreateDatasetRequest",
    &[
        ("FlywheelArn", &COMPREHEND_FLYWHEEL_ARN),
        ("DatasetName", &COMPREHEND_ARN_NAME),
        ("DatasetType", &DATASET_TYPE),
        ("Description", &DESCRIPTION),
        ("InputDataConfig", &DATASET_INPUT_DATA_CONFIG),
        ("ClientRequestToken", &CLIENT_REQUEST_TOKEN_STRING),
        ("Tags", &TAG_LIST),
    ],
    &["FlywheelArn", "DatasetName", "InputDataConfig"],
);

pub static CREATE_FLYWHEEL_REQUEST: Shape = Shape::structure(
    "CreateFlywheelRequest",
    &[
        ("FlywheelName", &COMPREHEND_ARN_NAME),
        ("ActiveModelArn", &COMPREHEND_MODEL_ARN),
        ("DataAccessRoleArn", &IAM_ROLE_ARN),
        ("TaskConfig", &TASK_CONFIG),
        ("ModelType", &MODEL_TYPE),
        ("DataLakeS3Uri", &FLYWHEEL_S3_URI),
        ("DataSecurityConfig", &DATA_SECURITY_CONFIG),
        ("ClientRequestToken", &CLIENT_REQUEST_TOKEN_STRING),
        ("Tags", &TAG_LIST),
    ],
    &["FlywheelName", "DataAccessRoleArn", "DataLakeS3Uri"],
);

pub static DATA_SECURITY_CONFIG: Shape = Shape::structure(
    "DataSecurityConfig",
    &[
        ("ModelKmsKeyId", &KMS_KEY_ID),
        ("VolumeKmsKeyId", &KMS_KEY_ID),
        ("DataLakeKmsKeyId", &KMS_KEY_ID),
        ("VpcConfig", &VPC_CONFIG),
    ],
    &[],
);

pub static DATASET_AUGMENTED_MANIFESTS_LIST: Shape = Shape::list(
    "DatasetAugmentedManifestsList",
    &DATASET_AUGMENTED_MANIFESTS_LIST_ITEM,
    None,
    None,
);

pub static DATASET_AUGMENTED_MANIFESTS_LIST_ITEM: Shape = Shape::structure(
    "DatasetAugmentedManifestsListItem",
    &[
        ("AttributeNames", &ATTRIBUTE_NAMES_LIST),
        ("S3Uri", &S3_URI),
        ("AnnotationDataS3Uri", &S3_URI),
        ("SourceDocumentsS3Uri", &S3_URI),
        ("DocumentType", &AUGMENTED_MANIFESTS_DOCUMENT_TYPE_FORMAT),
    ],
    &["AttributeNames", "S3Uri"],
);

pub static DATASET_DATA_FORMAT: Shape = Shape::string(
    "DatasetDataFormat",
    None,
    None,
    None,
    &["COMPREHEND_CSV", "AUGMENTED_MANIFEST"],
);

pub static DATASET_DOCUMENT_CLASSIFIER_INPUT_DATA_CONFIG: Shape = Shape::structure(
    "DatasetDocumentClassifierInputDataConfig",
    &[("S3Uri", &S3_URI), ("LabelDelimiter", &LABEL_DELIMITER)],
    &["S3Uri"],
);

pub static DATASET_ENTITY_RECOGNIZER_ANNOTATIONS: Shape = Shape::structure(
    "DatasetEntityRecognizerAnnotations",
    &[("S3Uri", &S3_URI)],
    &["S3Uri"],
);

pub static DATASET_ENTITY_RECOGNIZER_DOCUMENTS: Shape = Shape::structure(
    "DatasetEntityRecognizerDocuments",
    &[("S3Uri", &S3_URI), ("InputFormat", &INPUT_FORMAT)],
    &["S3Uri"],
);

pub static DATASET_ENTITY_RECOGNIZER_ENTITY_LIST: Shape = Shape::structure(
    "DatasetEntityRecognizerEntityList",
    &[("S3Uri", &S3_URI)],
    &["S3Uri"],
);

pub static DATASET_ENTITY_RECOGNIZER_INPUT_DATA_CONFIG: Shape = Shape::structure(
    "DatasetEntityRecognizerInputDataConfig",
    &[
        ("Annotations", &DATASET_ENTITY_RECOGNIZER_ANNOTATIONS),
        ("Documents", &DATASET_ENTITY_RECOGNIZER_DOCUMENTS),
        ("EntityList", &DATASET_ENTITY_RECOGNIZER_ENTITY_LIST),
    ],
    &["Documents"],
);

pub static DATASET_FILTER: Shape = Shape::structure(
    "DatasetFilter",
    &[
        ("Status", &DATASET_STATUS),
        ("DatasetType", &DATASET_TYPE),
        ("CreationTimeAfter", &TIMESTAMP),
        ("CreationTimeBefore", &TIMESTAMP),
    ],
    &[],
);

pub static DATASET_INPUT_DATA_CONFIG: Shape = Shape::structure(
    "DatasetInputDataConfig",
    &[
        ("AugmentedManifests", &DATASET_AUGMENTED_MANIFESTS_LIST),
        ("DataFormat", &DATASET_DATA_FORMAT),
        (
            "DocumentClassifierInputDataConfig",
            &DATASET_DOCUMENT_CLASSIFIER_INPUT_DATA_CONFIG,
        ),
        (
            "EntityRecognizerInputDataConfig",
            &DATASET_ENTITY_RECOGNIZER_INPUT_DATA_CONFIG,
        ),
    ],
    &[],
);

pub static DATASET_STATUS: Shape = Shape::string(
    "DatasetStatus",
    None,
    None,
    None,
    &["CREATING", "COMPLETED", "FAILED"],
);

pub static DATASET_TYPE: Shape = Shape::string("DatasetType", None, None, None, &["TRAIN", "TEST"]);

pub static DELETE_FLYWHEEL_REQUEST: Shape = Shape::structure(
    "DeleteFlywheelRequest",
    &[("FlywheelArn", &COMPREHEND_FLYWHEEL_ARN)],
    &["FlywheelArn"],
);

pub static DESCRIBE_DATASET_REQUEST: Shape = Shape::structure(
    "DescribeDatasetRequest",
    &[("DatasetArn", &COMPREHEND_DATASET_ARN)],
    &["DatasetArn"],
);

pub static DESCRIBE_FLYWHEEL_ITERATION_REQUEST: Shape = Shape::structure(
    "DescribeFlywheelIterationRequest",
    &[
        ("FlywheelArn", &COMPREHEND_FLYWHEEL_ARN),
        ("FlywheelIterationId", &FLYWHEEL_ITERATION_ID),
    ],
    &["FlywheelArn", "FlywheelIterationId"],
);

pub static DESCRIBE_FLYWHEEL_REQUEST: Shape = Shape::structure(
    "DescribeFlywheelRequest",
    &[("FlywheelArn", &COMPREHEND_FLYWHEEL_ARN)],
    &["FlywheelArn"],
);

pub static DESCRIPTION: Shape = Shape::string(
    "Description",
    None,
    Some(2048),
    Some(r#"^([a-zA-Z0-9_])[\\a-zA-Z0-9_@#%*+=:?./!\s-]*$"#),
    &[],
);

pub static DOCUMENT_CLASSIFICATION_CONFIG: Shape = Shape::structure(
    "DocumentClassificationConfig",
    &[
        ("Mode", &DOCUMENT_CLASSIFIER_MODE),
        ("Labels", &LABELS_LIST),
    ],
    &["Mode"],
);

pub static ENTITY_RECOGNITION_CONFIG: Shape = Shape::structure(
    "EntityRecognitionConfig",
    &[("EntityTypes", &ENTITY_TYPES_LIST)],
    &["EntityTypes"],
);

pub static ENTITY_TYPE_NAME: Shape = Shape::string(
    "EntityTypeName",
    None,
    Some(64),
    Some(r#"^(?![^\n\r\t,]*\\n|\\r|\\t)[^\n\r\t,]+$"#),
    &[],
);

pub static ENTITY_TYPES_LIST: Shape =
    Shape::list("EntityTypesList", &ENTITY_TYPES_LIST_ITEM, None, None);

pub static ENTITY_TYPES_LIST_ITEM: Shape = Shape::structure(
    "EntityTypesListItem",
    &[("Type", &ENTITY_TYPE_NAME)],
    &["Type"],
);

pub static FLYWHEEL_FILTER: Shape = Shape::structure(
    "FlywheelFilter",
    &[
        ("Status", &FLYWHEEL_STATUS),
        ("CreationTimeAfter", &TIMESTAMP),
        ("CreationTimeBefore", &TIMESTAMP),
    ],
    &[],
);

pub static FLYWHEEL_ITERATION_FILTER: Shape = Shape::structure(
    "FlywheelIterationFilter",
    &[
        ("CreationTimeAfter", &TIMESTAMP),
        ("CreationTimeBefore", &TIMESTAMP),
    ],
    &[],
);

pub static FLYWHEEL_ITERATION_ID: Shape = Shape::string(
    "FlywheelIterationId",
    None,
    Some(63),
    Some(r#"[0-9]{8}T[0-9]{6}Z"#),
    &[],
);

pub static FLYWHEEL_S3_URI: Shape = Shape::string(
    "FlywheelS3Uri",
    None,
    Some(512),
    Some(r#"s3://[a-z0-9][\.\-a-z0-9]{1,61}[a-z0-9](/.*)?"#),
    &[],
);

pub static FLYWHEEL_STATUS: Shape = Shape::string(
    "FlywheelStatus",
    None,
    None,
    None,
    &["CREATING", "ACTIVE", "UPDATING", "DELETING", "FAILED"],
);

pub static LABEL_LIST_ITEM: Shape =
    Shape::string("LabelListItem", None, Some(5000), Some(r#"^\P{C}*$"#), &[]);

pub static LABELS_LIST: Shape = Shape::list("LabelsList", &LABEL_LIST_ITEM, None, Some(1000));

pub static LIST_DATASETS_REQUEST: Shape = Shape::structure(
    "ListDatasetsRequest",
    &[
        ("FlywheelArn", &COMPREHEND_FLYWHEEL_ARN),
        ("Filter", &DATASET_FILTER),
        ("NextToken", &STRING),
        ("MaxResults", &MAX_RESULTS_INTEGER),
    ],
    &[],
);

pub static LIST_FLYWHEEL_ITERATION_HISTORY_REQUEST: Shape = Shape::structure(
    "ListFlywheelIterationHistoryRequest",
    &[
        ("FlywheelArn", &COMPREHEND_FLYWHEEL_ARN),
        ("Filter", &FLYWHEEL_ITERATION_FILTER),
        ("NextToken", &STRING),
        ("MaxResults", &MAX_RESULTS_INTEGER),
    ],
    &["FlywheelArn"],
);

pub static LIST_FLYWHEELS_REQUEST: Shape = Shape::structure(
    "ListFlywheelsRequest",
    &[
        ("Filter", &FLYWHEEL_FILTER),
        ("NextToken", &STRING),
        ("MaxResults", &MAX_RESULTS_INTEGER),
    ],
    &[],
);

pub static MODEL_TYPE: Shape = Shape::string(
    "ModelType",
    None,
    None,
    None,
    &["DOCUMENT_CLASSIFIER", "ENTITY_RECOGNIZER"],
);

pub static START_FLYWHEEL_ITERATION_REQUEST: Shape = Shape::structure(
    "StartFlywheelIterationRequest",
    &[
        ("FlywheelArn", &COMPREHEND_FLYWHEEL_ARN),
        ("ClientRequestToken", &CLIENT_REQUEST_TOKEN_STRING),
    ],
    &["FlywheelArn"],
);

pub static TASK_CONFIG: Shape = Shape::structure(
    "TaskConfig",
    &[
        ("LanguageCode", &LANGUAGE_CODE),
        (
            "DocumentClassificationConfig",
            &DOCUMENT_CLASSIFICATION_CONFIG,
        ),
        ("EntityRecognitionConfig", &ENTITY_RECOGNITION_CONFIG),
    ],
    &["LanguageCode"],
);

pub static UPDATE_DATA_SECURITY_CONFIG: Shape = Shape::structure(
    "UpdateDataSecurityConfig",
    &[
        ("ModelKmsKeyId", &KMS_KEY_ID),
        ("VolumeKmsKeyId", &KMS_KEY_ID),
        ("VpcConfig", &VPC_CONFIG),
    ],
    &[],
);

pub static UPDATE_FLYWHEEL_REQUEST: Shape = Shape::structure(
    "UpdateFlywheelRequest",
    &[
        ("FlywheelArn", &COMPREHEND_FLYWHEEL_ARN),
        ("ActiveModelArn", &COMPREHEND_MODEL_ARN),
        ("DataAccessRoleArn", &IAM_ROLE_ARN),
        ("DataSecurityConfig", &UPDATE_DATA_SECURITY_CONFIG),
    ],
    &["FlywheelArn"],
);

/// Every operation docclass answers, with its input shape.
pub static OPERATIONS: &[(&str, &Shape)] = &[
    (
        "StartDocumentClassificationJob",
        &START_DOCUMENT_CLASSIFICATION_JOB_REQUEST,
    ),
    (
        "DescribeDocumentClassificationJob",
        &DESCRIBE_DOCUMENT_CLASSIFICATION_JOB_REQUEST,
    ),
    (
        "ListDocumentClassificationJobs",
        &LIST_DOCUMENT_CLASSIFICATION_JOBS_REQUEST,
    ),
    (
        "CreateDocumentClassifier",
        &CREATE_DOCUMENT_CLASSIFIER_REQUEST,
    ),
    (
        "DescribeDocumentClassifier",
        &DESCRIBE_DOCUMENT_CLASSIFIER_REQUEST,
    ),
    (
        "ListDocumentClassifiers",
        &LIST_DOCUMENT_CLASSIFIERS_REQUEST,
    ),
    (
        "DeleteDocumentClassifier",
        &DELETE_DOCUMENT_CLASSIFIER_REQUEST,
    ),
    (
        "StopTrainingDocumentClassifier",
        &STOP_TRAINING_DOCUMENT_CLASSIFIER_REQUEST,
    ),
    ("ClassifyDocument", &CLASSIFY_DOCUMENT_REQUEST),
    ("CreateEndpoint", &CREATE_ENDPOINT_REQUEST),
    ("DescribeEndpoint", &DESCRIBE_ENDPOINT_REQUEST),
    ("ListEndpoints", &LIST_ENDPOINTS_REQUEST),
    ("UpdateEndpoint", &UPDATE_ENDPOINT_REQUEST),
    ("DeleteEndpoint", &DELETE_ENDPOINT_REQUEST),
    ("TagResource", &TAG_RESOURCE_REQUEST),
    ("UntagResource", &UNTAG_RESOURCE_REQUEST),
    ("ListTagsForResource", &LIST_TAGS_FOR_RESOURCE_REQUEST),
    (
        "ListDocumentClassifierSummaries",
        &LIST_DOCUMENT_CLASSIFIER_SUMMARIES_REQUEST,
    ),
    ("CreateFlywheel", &CREATE_FLYWHEEL_REQUEST),
    ("DescribeFlywheel", &DESCRIBE_FLYWHEEL_REQUEST),
    ("ListFlywheels", &LIST_FLYWHEELS_REQUEST),
    ("UpdateFlywheel", &UPDATE_FLYWHEEL_REQUEST),
    ("DeleteFlywheel", &DELETE_FLYWHEEL_REQUEST),
    ("CreateDataset", &CREATE_DATASET_REQUEST),
    ("DescribeDataset", &DESCRIBE_DATASET_REQUEST),
    ("ListDatasets", &LIST_DATASETS_REQUEST),
    ("StartFlywheelIteration", &START_FLYWHEEL_ITERATION_REQUEST),
    (
        "DescribeFlywheelIteration",
        &DESCRIBE_FLYWHEEL_ITERATION_REQUEST,
    ),
    (
        "ListFlywheelIterationHistory",
        &LIST_FLYWHEEL_ITERATION_HISTORY_REQUEST,
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(s: &'static Shape, out: &mut Vec<&'static Shape>) {
        if out.iter().any(|x| std::ptr::eq(*x, s)) {
            return;
        }
        out.push(s);
        match &s.kind {
            Kind::List { member, .. } => strings(member, out),
            Kind::Structure { members, .. } => members.iter().for_each(|(_, m)| strings(m, out)),
            _ => {}
        }
    }

    #[test]
    fn every_pattern_compiles_and_accepts_the_documented_examples() {
        let mut all = Vec::new();
        for (_, s) in OPERATIONS {
            strings(s, &mut all);
        }
        for s in &all {
            if let Kind::String {
                pattern: Some(p), ..
            } = s.kind
            {
                let compiled = std::panic::catch_unwind(|| Pattern::compile(p));
                assert!(compiled.is_ok(), "{}: {p}", s.name);
            }
        }
        let cases: &[(&Shape, &str, bool)] = &[
            // The model's one lookahead: no comma or line break, nor their escapes.
            (&ENTITY_TYPE_NAME, "PRODUCT_CODE", true),
            (&ENTITY_TYPE_NAME, "a,b", false),
            (&ENTITY_TYPE_NAME, "bad\\nname", false),
            (&ENTITY_TYPE_NAME, "\\tab", false),
            (&ENTITY_TYPE_NAME, "ok\\tab", true),
            (&JOB_NAME, "exampleclassificationjob", true),
            (&JOB_NAME, "my job: 2/3 @home", true),
            (&JOB_NAME, "bad<name>", false),
            (&S3_URI, "s3://bucket/in/", true),
            (&S3_URI, "s3://my.bucket-1", true),
            (&S3_URI, "s3://B/x", false),
            (&S3_URI, "http://bucket/x", false),
            (&IAM_ROLE_ARN, "arn:aws:iam::111122223333:role/service-role/AmazonComprehendServiceRole-example-role", true),
            (&IAM_ROLE_ARN, "arn:aws-cn:iam::111122223333:role/r", true),
            (&IAM_ROLE_ARN, "arn:aws:iam::1111:role/r", false),
            (&IAM_ROLE_ARN, "arn:aws:iam::111122223333:user/u", false),
            // Regression (fuzz/seeds/service_request/crash-d159026a...): a multi-byte character
            // across byte 12 of the account.
            (&IAM_ROLE_ARN, "arn:aws:iam::11112222333\u{e9}:role/r", false),
            (&CLIENT_REQUEST_TOKEN_STRING, "0f57d4c9-0848-4dbf-8a2c-2cdf33d94392", true),
            (&CLIENT_REQUEST_TOKEN_STRING, "a_b", false),
            (&DOCUMENT_CLASSIFIER_ARN, "arn:aws:comprehend:us-west-2:111122223333:document-classifier/spam-ham/version/v1", true),
            (&DOCUMENT_CLASSIFIER_ARN, "spam-ham", false),
            (&DOCUMENT_CLASSIFIER_ARN, "/srv/models/x", false),
            (&LABEL_DELIMITER, "|", true),
            (&LABEL_DELIMITER, "\t", true),
            (&LABEL_DELIMITER, "a", false),
            (&INPUT_FORMAT, "ONE_DOC_PER_FILE", true),
            (&INPUT_FORMAT, "ONE_DOC_PER_PAGE", false),
        ];
        for (shape, value, ok) in cases {
            assert_eq!(shape.accepts(value), *ok, "{} {value:?}", shape.name);
        }
    }

    #[test]
    fn requests_are_checked_member_by_member() {
        let req = &START_DOCUMENT_CLASSIFICATION_JOB_REQUEST;
        let good = json!({
            "DataAccessRoleArn": "arn:aws:iam::111122223333:role/r",
            "InputDataConfig": {"S3Uri": "s3://in-bucket/x/", "InputFormat": "ONE_DOC_PER_FILE"},
            "OutputDataConfig": {"S3Uri": "s3://out-bucket/"},
            "Tags": [{"Key": "team", "Value": "a"}],
        });
        assert_eq!(req.validate(&good, ""), Ok(()));
        let mut missing = good.clone();
        missing["InputDataConfig"] = json!({});
        let e = req.validate(&missing, "").unwrap_err();
        assert!(
            e.message().contains("'InputDataConfig.S3Uri'") && e.message().contains("not be null"),
            "{e:?}"
        );
        let mut wrong_type = good.clone();
        wrong_type["Tags"] = json!("team");
        assert!(matches!(
            req.validate(&wrong_type, ""),
            Err(Violation::Type { .. })
        ));
        let mut long_key = good;
        long_key["Tags"][0]["Key"] = json!("k".repeat(129));
        let e = req.validate(&long_key, "").unwrap_err();
        assert!(
            e.message().contains("'Tags.1.Key'") && e.message().contains("between 1 and 128"),
            "{e:?}"
        );
        let list = &LIST_DOCUMENT_CLASSIFICATION_JOBS_REQUEST;
        assert!(list.validate(&json!({"MaxResults": 501}), "").is_err());
        assert!(list.validate(&json!({"MaxResults": 500}), "").is_ok());
        let blob = &CLASSIFY_DOCUMENT_REQUEST;
        let arn = "arn:aws:comprehend:us-west-2:111122223333:document-classifier-endpoint/e";
        assert!(blob
            .validate(&json!({"EndpointArn": arn, "Bytes": "aGk="}), "")
            .is_ok());
        assert!(blob
            .validate(&json!({"EndpointArn": arn, "Bytes": "not base64!"}), "")
            .is_err());
        assert!(blob
            .validate(&json!({"EndpointArn": arn, "Bytes": ""}), "")
            .is_err());
    }
}
