//! `application/x-www-form-urlencoded` bodies (the AWS Query protocol STS and IAM speak) and
//! percent-decoding of request paths.

use std::collections::HashMap;

/// Decodes `%XX` escapes (and `+` as a space when `plus_is_space`). Invalid escapes stay as they are.
pub fn percent_decode(text: &str, plus_is_space: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses a form body into its fields (the last value wins for a repeated name).
pub fn parse_form(body: &[u8]) -> HashMap<String, String> {
    let text = String::from_utf8_lossy(body);
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(name, true), percent_decode(value, true))
        })
        .collect()
}

/// The access key id from a SigV4 `Authorization` header (`… Credential=AKID/date/region/…`).
pub fn sigv4_access_key(authorization: &str) -> Option<String> {
    let start = authorization.find("Credential=")? + "Credential=".len();
    let rest = &authorization[start..];
    let end = rest.find('/')?;
    let akid = rest[..end].trim();
    (!akid.is_empty()).then(|| akid.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_escapes_and_plus() {
        assert_eq!(percent_decode("a%2Fb+c", true), "a/b c");
        assert_eq!(percent_decode("a%2Fb+c", false), "a/b+c");
        assert_eq!(percent_decode("100%", false), "100%");
        assert_eq!(percent_decode("%zz%41", false), "%zzA");
    }

    #[test]
    fn parses_a_query_protocol_body() {
        let form = parse_form(b"Action=GetSessionToken&Version=2011-06-15&SerialNumber=arn%3Aaws%3Aiam%3A%3A123456789012%3Amfa%2Falice&TokenCode=123456");
        assert_eq!(form["Action"], "GetSessionToken");
        assert_eq!(form["SerialNumber"], "arn:aws:iam::123456789012:mfa/alice");
        assert_eq!(form["TokenCode"], "123456");
        assert!(!form.contains_key("DurationSeconds"));
    }

    #[test]
    fn finds_the_access_key_in_a_sigv4_header() {
        let h = "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20261129/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=ab";
        assert_eq!(sigv4_access_key(h).as_deref(), Some("AKIAEXAMPLE"));
        assert_eq!(sigv4_access_key("Bearer x"), None);
    }
}
