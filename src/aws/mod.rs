//! Comprehend's identifiers and clocks: the region and account that ARNs carry (offline
//! defaults, overridable), classifier and job ARNs, 32-hex job ids, and timestamps in the two forms
//! the AWS tools use (epoch seconds on the wire, ISO 8601 in the CLI's output).

use std::io::Read;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::{Error, Param, Result};

pub mod shapes;

/// Region and account that go into ARNs and output folder names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub region: String,
    pub account: String,
}

impl Default for Identity {
    fn default() -> Self {
        Identity {
            region: "us-east-1".into(),
            account: "000000000000".into(),
        }
    }
}

impl Identity {
    pub fn new(region: &str, account: &str) -> Result<Self> {
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::param(Param::AccountId, account, "12 digits"));
        }
        if region.is_empty()
            || !region
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(Error::param(
                Param::Region,
                region,
                "letters, digits and '-', like us-east-1",
            ));
        }
        Ok(Identity {
            region: region.into(),
            account: account.into(),
        })
    }

    pub fn classifier_arn(&self, name: &str, version: Option<&str>) -> String {
        let base = format!(
            "arn:aws:comprehend:{}:{}:document-classifier/{name}",
            self.region, self.account
        );
        match version {
            Some(v) => format!("{base}/version/{v}"),
            None => base,
        }
    }

    pub fn endpoint_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:comprehend:{}:{}:document-classifier-endpoint/{name}",
            self.region, self.account
        )
    }

    pub fn job_arn(&self, job_id: &str) -> String {
        format!(
            "arn:aws:comprehend:{}:{}:document-classification-job/{job_id}",
            self.region, self.account
        )
    }
}

/// A parsed classifier ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassifierArn {
    pub region: String,
    pub account: String,
    pub name: String,
    pub version: Option<String>,
}

/// Checks Comprehend's resource-name pattern `^[a-zA-Z0-9](-*[a-zA-Z0-9])*$`, up to 63 characters.
pub fn check_resource_name(what: Param, name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(Error::param(
            what,
            name,
            "1-63 letters, digits and inner hyphens",
        ))
    }
}

impl ClassifierArn {
    pub fn parse(arn: &str) -> Result<Self> {
        let bad = |why: &str| {
            Error::param(
                Param::ClassifierArn,
                arn,
                format!("arn:aws:comprehend:REGION:ACCOUNT:document-classifier/NAME[/version/VERSION] (the value {why})"),
            )
        };
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        if parts.len() != 6
            || parts[0] != "arn"
            || !parts[1].starts_with("aws")
            || parts[2] != "comprehend"
        {
            return Err(bad("is not a Comprehend ARN"));
        }
        let resource = parts[5]
            .strip_prefix("document-classifier/")
            .ok_or_else(|| bad("is not a document-classifier ARN"))?;
        let (name, version) = match resource.split_once("/version/") {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (resource, None),
        };
        check_resource_name(Param::ClassifierName, name)?;
        if let Some(v) = &version {
            check_resource_name(Param::VersionName, v)?;
        }
        Ok(ClassifierArn {
            region: parts[3].into(),
            account: parts[4].into(),
            name: name.into(),
            version,
        })
    }
}

/// Seconds since the Unix epoch, with millisecond precision (as Comprehend reports them).
/// Whole seconds since the epoch.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

pub fn now_epoch() -> f64 {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    (d.as_millis() as f64) / 1000.0
}

/// Formats epoch seconds the way the AWS CLI prints timestamps: `2023-06-14T17:09:51.788000+00:00`.
pub fn iso8601(epoch: f64) -> String {
    let micros = (epoch * 1e6).round() as i64;
    let secs = micros.div_euclid(1_000_000);
    let frac = micros.rem_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (proleptic Gregorian).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{frac:06}+00:00",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Reads a timestamp as the AWS CLI takes one: epoch seconds, or ISO 8601 (`2023-06-14`,
/// `2023-06-14T17:09:51`, with optional fraction and `Z` or `+hh:mm` offset; UTC when none).
pub fn parse_timestamp(text: &str) -> Option<f64> {
    let t = text.trim();
    if let Ok(epoch) = t.parse::<f64>() {
        return epoch.is_finite().then_some(epoch);
    }
    let (date, time) = match t.split_once(['T', ' ']) {
        Some((d, rest)) => (d, rest),
        None => (t, "00:00:00"),
    };
    let mut d = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (year, month, day) = (d.next()??, d.next()??, d.next()??);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    // Offset: a trailing Z, or +hh:mm / -hh:mm after the seconds.
    let (clock, offset) = if let Some(c) = time.strip_suffix('Z') {
        (c, 0)
    } else if let Some(pos) = time.rfind(['+', '-']) {
        let (c, o) = time.split_at(pos);
        let sign = if o.starts_with('-') { -1 } else { 1 };
        let (h, m) = o[1..].split_once(':').unwrap_or((&o[1..], "0"));
        (
            c,
            sign * (h.parse::<i64>().ok()? * 3600 + m.parse::<i64>().ok()? * 60),
        )
    } else {
        (time, 0)
    };
    let mut c = clock.splitn(3, ':');
    let hour: i64 = c.next()?.parse().ok()?;
    let minute: i64 = c.next().unwrap_or("0").parse().ok()?;
    let second: f64 = c.next().unwrap_or("0").parse().ok()?;
    if hour > 23 || minute > 59 || !(0.0..61.0).contains(&second) {
        return None;
    }
    // Days since 1970-01-01 of a proleptic Gregorian date.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + hour * 3600 + minute * 60 - offset) as f64 + second)
}

/// Rewrites the epoch-second timestamps under `keys` of a JSON object as the AWS CLI prints them.
pub fn iso_timestamps(v: &mut serde_json::Value, keys: &[&str]) {
    for key in keys {
        if let Some(t) = v.get(*key).and_then(|t| t.as_f64()) {
            v[*key] = iso8601(t).into();
        }
    }
}

/// A new job id: 32 lowercase hex characters from the operating system's random source.
pub fn new_job_id() -> String {
    let mut bytes = [0u8; 16];
    let filled = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .is_ok();
    if !filled {
        // No /dev/urandom: mix the clock, the process id and a counter instead.
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let seed = nanos ^ ((std::process::id() as u128) << 64);
        bytes = seed.to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Comprehend's job-name rule (the API model's `JobName` shape).
pub fn check_job_name(name: &str) -> Result<()> {
    if shapes::JOB_NAME.accepts(name) {
        Ok(())
    } else {
        Err(Error::param(
            Param::JobName,
            name,
            "1-256 letters, digits, spaces or _.:/=+-%@",
        ))
    }
}

/// Checks a caller-chosen job id: 1-32 lowercase hex characters or digits.
pub fn check_job_id(id: &str) -> Result<()> {
    if !id.is_empty()
        && id.len() <= 32
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(())
    } else {
        Err(Error::param(
            Param::JobId,
            id,
            "1-32 lowercase hex characters",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_read_as_the_aws_cli_reads_them() {
        for (text, want) in [
            ("1686762591.788", 1_686_762_591.788),
            ("2023-06-14T17:09:51.788000+00:00", 1_686_762_591.788),
            ("2023-06-14T17:09:51Z", 1_686_762_591.0),
            ("2023-06-14T19:09:51+02:00", 1_686_762_591.0),
            ("2023-06-14", 1_686_700_800.0),
            ("1970-01-01T00:00:00", 0.0),
            ("2000-02-29T12:00:00", 951_825_600.0),
        ] {
            let got = parse_timestamp(text).unwrap();
            assert!((got - want).abs() < 1e-6, "{text}: {got} != {want}");
        }
        for bad in [
            "",
            "yesterday",
            "2023-13-01",
            "2023-06-14T25:00:00",
            "2023-06",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
        // What iso8601 prints reads back.
        let t = 1_733_390_000.25;
        assert_eq!(parse_timestamp(&iso8601(t)), Some(t));
    }

    #[test]
    fn arns_round_trip() {
        let id = Identity::new("us-west-2", "111122223333").unwrap();
        let arn = id.classifier_arn("mymodel", Some("12"));
        assert_eq!(
            arn,
            "arn:aws:comprehend:us-west-2:111122223333:document-classifier/mymodel/version/12"
        );
        let p = ClassifierArn::parse(&arn).unwrap();
        assert_eq!(
            (p.name.as_str(), p.version.as_deref()),
            ("mymodel", Some("12"))
        );
        assert!(ClassifierArn::parse("arn:aws:s3:::bucket").is_err());
        assert!(ClassifierArn::parse("arn:aws:comprehend:r:1:document-classifier/../x").is_err());
        assert!(Identity::new("us-east-1", "123").is_err());
    }

    #[test]
    fn iso_dates() {
        assert_eq!(iso8601(0.0), "1970-01-01T00:00:00.000000+00:00");
        // 2023-06-14T17:09:51.788Z, from the AWS CLI example.
        assert_eq!(
            iso8601(1_686_762_591.788),
            "2023-06-14T17:09:51.788000+00:00"
        );
        assert_eq!(iso8601(951_782_400.0), "2000-02-29T00:00:00.000000+00:00");
    }

    #[test]
    fn job_ids() {
        let a = new_job_id();
        assert_eq!(a.len(), 32);
        assert!(check_job_id(&a).is_ok());
        assert_ne!(a, new_job_id());
        assert!(check_job_id("XYZ").is_err());
    }
}
