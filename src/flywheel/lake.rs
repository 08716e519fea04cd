//! A flywheel's data lake, laid out as Comprehend lays it out under `DataLakeS3Uri`:
//!
//! ```text
//! <DataLakeS3Uri>/<flywheel name>/schemaVersion=1/<creation time>/     the flywheel's lake
//!     datasets/<dataset name>/<creation time>/<files>                 each dataset's copy
//!     evaluation/<iteration id>/                                      each iteration's results
//!     model-stats/<iteration id>/                                     the new version's own
//!                                                                     training statistics
//! ```
//!
//! The folder names are Comprehend's (seen in its documented outputs); the files docclass puts
//! in them are its own: a dataset's files as given, an iteration's `evaluation.json` (both
//! models' metrics on the same test data, per label), `test.csv` when it held out its own test
//! data, and `report.html`; and the new version's training statistics (`confusion_matrix.json`,
//! `report.html` of its own evaluation). Lakes are local folders (a path, `file://`, or `s3://` under the
//! service's `--s3-root`) or real S3, through the same layer as jobs.

use std::path::Path;

use super::record::stamp;
use crate::error::Result;
use crate::input::listing;
use crate::input::MmapChoice;
use crate::job::train::output;

/// The flywheel's own folder of the lake.
pub fn root(data_lake: &str, flywheel: &str, created: f64) -> String {
    format!(
        "{}/{flywheel}/schemaVersion=1/{}/",
        data_lake.trim_end_matches('/'),
        stamp(created)
    )
}

/// A dataset's folder.
pub fn dataset(root: &str, name: &str, created: f64) -> String {
    format!("{root}datasets/{name}/{}/", stamp(created))
}

/// An iteration's results folder (`EvaluationManifestS3Prefix`).
pub fn evaluation(root: &str, iteration: &str) -> String {
    format!("{root}evaluation/{iteration}/")
}

/// The statistics folder of an iteration's new model version (its `FlywheelStatsS3Prefix`).
pub fn model_stats(root: &str, iteration: &str) -> String {
    format!("{root}model-stats/{iteration}/")
}

/// Copies every file under `source` (a file or prefix) into the folder `dest`, keeping their
/// keys relative to the source's folder; returns how many files and bytes.
pub fn copy(source: &str, dest: &str, s3_root: Option<&Path>) -> Result<(usize, u64)> {
    let listed = listing::list_under(source, s3_root)?;
    if listed.files.is_empty() {
        return Err(crate::Error::NoInput(source.into()));
    }
    let mut bytes = 0;
    for file in &listed.files {
        let data = file
            .read(MmapChoice::Auto)
            .map_err(|e| crate::Error::io(&file.path, e))?;
        bytes += data.len() as u64;
        write(&format!("{dest}{}", file.key), &data, s3_root)?;
    }
    Ok((listed.files.len(), bytes))
}

/// Writes one whole file into the lake, never half-written.
pub fn write(uri: &str, bytes: &[u8], s3_root: Option<&Path>) -> Result<()> {
    let tag = format!("lake-{}", crate::aws::new_job_id());
    output::write(uri, s3_root, &tag, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_follow_comprehends_layout() {
        // The AWS CLI's create-flywheel example: created 2023-06-16T20:05:43.242Z.
        let r = root(
            "s3://amzn-s3-demo-bucket",
            "example-flywheel",
            1_686_945_943.242,
        );
        assert_eq!(
            r,
            "s3://amzn-s3-demo-bucket/example-flywheel/schemaVersion=1/20230616T200543Z/"
        );
        assert_eq!(
            dataset(&r, "example-dataset-1", 1_686_947_830.4),
            format!("{r}datasets/example-dataset-1/20230616T203710Z/")
        );
        assert_eq!(
            evaluation(&r, "20230616T211026Z"),
            format!("{r}evaluation/20230616T211026Z/")
        );
    }

    #[test]
    fn a_copy_keeps_every_file() {
        let d = tempfile::tempdir().unwrap();
        let src = d.path().join("in");
        std::fs::create_dir_all(src.join("deep")).unwrap();
        std::fs::write(src.join("a.csv"), "x,1\n").unwrap();
        std::fs::write(src.join("deep/b.csv"), "y,2\n").unwrap();
        let dest = format!("{}/lake/ds/", d.path().display());
        let (files, bytes) = copy(&format!("{}/", src.display()), &dest, None).unwrap();
        assert_eq!((files, bytes), (2, 8));
        assert_eq!(
            std::fs::read_to_string(d.path().join("lake/ds/a.csv")).unwrap(),
            "x,1\n"
        );
        assert_eq!(
            std::fs::read_to_string(d.path().join("lake/ds/deep/b.csv")).unwrap(),
            "y,2\n"
        );
    }
}
