//! A listing answer must be a whole XML document. S3 signs nothing in a listing, and the SDK's
//! XML reader returns whatever versions it read from a document cut short in transit (a broken
//! intermediary that frames the shortened body correctly), so a fetch would take a partial
//! listing for the bucket's contents. This interceptor refuses a successful listing answer that
//! does not end with its root element's closing tag.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::AfterDeserializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// What a listing answer cut short is reported as; callers and tests recognise it by this.
pub const CUT_SHORT: &str = "the listing S3 sent was cut short in transit";

/// Checks that a 2xx answer's body ends with `</ROOT>` (after trailing whitespace).
#[derive(Debug, Clone, Copy)]
pub(crate) struct WholeListing {
    root: &'static str,
}

impl WholeListing {
    /// For answers whose document element is `root` (`ListVersionsResult`, `ListBucketResult`).
    pub(crate) fn new(root: &'static str) -> Self {
        Self { root }
    }
}

/// Whether `body` ends with the closing tag of `root`, ignoring trailing whitespace.
pub(crate) fn is_whole(body: &[u8], root: &str) -> bool {
    let end = body
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    let body = &body[..end];
    let close = format!("</{root}>");
    body.ends_with(close.as_bytes())
}

impl Intercept for WholeListing {
    fn name(&self) -> &'static str {
        "CountersignWholeListing"
    }

    // After deserialisation: only then is a listing's body read into memory.
    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let response = context.response();
        if !response.status().is_success() {
            return Ok(());
        }
        match response.body().bytes() {
            Some(body) if !is_whole(body, self.root) => Err(format!(
                "{CUT_SHORT}: its XML ends before </{}> ({} bytes received)",
                self.root,
                body.len()
            )
            .into()),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_whole;

    #[test]
    fn only_a_document_closed_by_its_root_is_whole() {
        let doc = b"<?xml version=\"1.0\"?><ListVersionsResult><Version/></ListVersionsResult>\n";
        assert!(is_whole(doc, "ListVersionsResult"));
        assert!(!is_whole(&doc[..doc.len() / 2], "ListVersionsResult"));
        assert!(!is_whole(b"", "ListVersionsResult"));
        assert!(!is_whole(
            b"<ListVersionsResult><Version/>",
            "ListVersionsResult"
        ));
        assert!(!is_whole(doc, "ListBucketResult"));
    }
}
