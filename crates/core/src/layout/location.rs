//! Where things live in S3, as checked values: a [`BucketName`], a [`Prefix`] and an
//! [`S3Location`] (`s3://BUCKET/PREFIX`). Every face (command line, window, service) parses a
//! bucket or a location through these types, so one set of rules decides what is accepted.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{check_relative_key, UnsafeKey};

/// Why a bucket, prefix or S3 location was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocationError {
    /// The bucket name breaks the S3 naming rules.
    #[error("{name:?} is not an S3 bucket name: {why}")]
    Bucket {
        /// What was given (at most 80 characters of it).
        name: String,
        /// The rule it breaks.
        why: &'static str,
    },
    /// The prefix is not a plain relative key.
    #[error("the prefix {prefix:?} is not usable: {why}")]
    Prefix {
        /// What was given (at most 200 characters of it).
        prefix: String,
        /// Why.
        why: UnsafeKey,
    },
    /// The text does not start with `s3://`.
    #[error("{text:?} is not an S3 location: write it as s3://BUCKET/PREFIX")]
    NotS3 {
        /// What was given (at most 200 characters of it).
        text: String,
    },
}

fn shown(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// An S3 bucket name: 3–63 characters of lowercase letters, digits, `.` and `-`, beginning and
/// ending with a letter or digit, no `..`, not an IP address (the S3 naming rules for general
/// purpose buckets).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct BucketName(String);

impl BucketName {
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for BucketName {
    type Err = LocationError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        let bad = |why| LocationError::Bucket {
            name: shown(name, 80),
            why,
        };
        if name.is_empty() {
            return Err(bad("it is empty"));
        }
        if !(3..=63).contains(&name.len()) {
            return Err(bad("it must be 3 to 63 characters long"));
        }
        if !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        {
            return Err(bad(
                "only lowercase letters, digits, dots and hyphens are allowed",
            ));
        }
        let alnum = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_alphanumeric());
        if !alnum(name.bytes().next()) || !alnum(name.bytes().last()) {
            return Err(bad("it must begin and end with a letter or digit"));
        }
        if name.contains("..") {
            return Err(bad("it must not contain two dots in a row"));
        }
        if name.parse::<std::net::Ipv4Addr>().is_ok() {
            return Err(bad("it must not be an IP address"));
        }
        Ok(Self(name.to_owned()))
    }
}

impl<'de> Deserialize<'de> for BucketName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for BucketName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A key prefix: empty, or a plain relative key ending in exactly one `/` (`lims/2026/`).
/// Parsing drops leading and trailing slashes and adds the one trailing `/`, so `lims/2026`,
/// `/lims/2026/` and `lims/2026/` are the same prefix.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Prefix(String);

impl Prefix {
    /// The empty prefix: the bucket's root.
    pub fn root() -> Self {
        Self(String::new())
    }

    /// The prefix as used in keys: empty or ending in `/`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True for the bucket's root.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The key `name` below this prefix.
    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.0)
    }
}

impl FromStr for Prefix {
    type Err = LocationError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let trimmed = text.trim_matches('/');
        if trimmed.is_empty() {
            return Ok(Self::root());
        }
        check_relative_key(trimmed).map_err(|why| LocationError::Prefix {
            prefix: shown(text, 200),
            why,
        })?;
        Ok(Self(format!("{trimmed}/")))
    }
}

impl<'de> Deserialize<'de> for Prefix {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `s3://BUCKET/PREFIX`: a checked bucket and prefix. Displays as `s3://bucket/prefix/` (or
/// `s3://bucket/` at the root), the form every report and ledger event uses.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct S3Location {
    /// The bucket.
    pub bucket: BucketName,
    /// The prefix (may be the root).
    pub prefix: Prefix,
}

impl S3Location {
    /// A location from its parts.
    pub fn new(bucket: BucketName, prefix: Prefix) -> Self {
        Self { bucket, prefix }
    }

    /// `s3://bucket/key` for a full object key.
    pub fn uri_of(&self, key: &str) -> String {
        s3_uri(self.bucket.as_str(), key)
    }

    /// The key `name` below the prefix.
    pub fn key(&self, name: &str) -> String {
        self.prefix.key(name)
    }

    /// The same bucket with `child` appended to the prefix (`child` must be a plain relative
    /// key; it is checked like any prefix).
    pub fn join(&self, child: &str) -> Result<Self, LocationError> {
        Ok(Self {
            bucket: self.bucket.clone(),
            prefix: self.prefix.key(child).parse()?,
        })
    }
}

impl FromStr for S3Location {
    type Err = LocationError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let rest = text
            .strip_prefix("s3://")
            .ok_or_else(|| LocationError::NotS3 {
                text: shown(text, 200),
            })?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        Ok(Self {
            bucket: bucket.parse()?,
            prefix: prefix.parse()?,
        })
    }
}

impl fmt::Display for S3Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.prefix)
    }
}

/// `s3://bucket/key`: how every report and ledger entry names an object.
pub fn s3_uri(bucket: &str, key: &str) -> String {
    format!("s3://{bucket}/{key}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_follow_the_s3_rules() {
        for ok in ["abc", "my-bucket.2026", "a1b", &"a".repeat(63)] {
            assert_eq!(ok.parse::<BucketName>().unwrap().as_str(), ok);
        }
        for (bad, why) in [
            ("", "empty"),
            ("ab", "3 to 63"),
            (&"a".repeat(64) as &str, "3 to 63"),
            ("UPPER", "lowercase"),
            ("under_score", "lowercase"),
            ("-abc", "begin and end"),
            ("abc.", "begin and end"),
            ("a..b", "two dots"),
            ("192.168.1.10", "IP address"),
            ("a/b", "lowercase"),
        ] {
            let e = bad.parse::<BucketName>().unwrap_err();
            assert!(e.to_string().contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn prefixes_normalise_to_one_trailing_slash_and_refuse_unsafe_keys() {
        for (text, want) in [
            ("", ""),
            ("/", ""),
            ("lims/2026", "lims/2026/"),
            ("/lims/2026/", "lims/2026/"),
            ("lims/2026//", "lims/2026/"),
        ] {
            assert_eq!(text.parse::<Prefix>().unwrap().as_str(), want, "{text}");
        }
        for bad in ["a//b", "a/../b", "./a", "a\\b", "a\u{1b}b"] {
            assert!(bad.parse::<Prefix>().is_err(), "{bad}");
        }
        assert_eq!("x/".parse::<Prefix>().unwrap().key("y.json"), "x/y.json");
        assert_eq!(Prefix::root().key("y.json"), "y.json");
    }

    #[test]
    fn locations_parse_display_and_agree_about_the_trailing_slash() {
        let a: S3Location = "s3://signoff-bucket/gxp/2026".parse().unwrap();
        let b: S3Location = "s3://signoff-bucket/gxp/2026/".parse().unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "s3://signoff-bucket/gxp/2026/");
        assert_eq!(a.key("checkpoints/"), "gxp/2026/checkpoints/");
        assert_eq!(a.uri_of("k"), "s3://signoff-bucket/k");
        let root: S3Location = "s3://signoff-bucket".parse().unwrap();
        assert!(root.prefix.is_root());
        assert_eq!(root.to_string(), "s3://signoff-bucket/");
        assert_eq!(
            root.join("runs").unwrap().to_string(),
            "s3://signoff-bucket/runs/"
        );
        for bad in [
            "signoff-bucket/x",
            "s3://",
            "s3://UPPER/x",
            "s3://b/../x",
            "s3://ok-bucket/a//b",
        ] {
            assert!(bad.parse::<S3Location>().is_err(), "{bad}");
        }
        let e = "bucket/x".parse::<S3Location>().unwrap_err();
        assert!(
            e.to_string().contains("write it as s3://BUCKET/PREFIX"),
            "{e}"
        );
    }

    #[test]
    fn deserialising_applies_the_same_rules() {
        assert!(serde_json::from_str::<BucketName>("\"Bad_Name\"").is_err());
        let l: S3Location = serde_json::from_str(r#"{"bucket":"abc","prefix":"/x/y"}"#).unwrap();
        assert_eq!(l.prefix.as_str(), "x/y/");
    }
}
