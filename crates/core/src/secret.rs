//! What a person types to prove who they are: a key passphrase and an MFA one-time code.
//!
//! Both are held only as these types: zeroized when dropped, shown as `<redacted>` by `Debug`,
//! never serialised, and read only through [`Passphrase::expose`] / [`MfaCode::expose`] at
//! the one place that uses them (the key derivation, the STS call). They may be deserialised,
//! because the window hands them over in a request.

use std::fmt;

use serde::{Deserialize, Deserializer};
use zeroize::Zeroizing;

macro_rules! secret {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(Zeroizing<String>);

        impl $name {
            /// Takes ownership of the typed text.
            pub fn new(text: String) -> Self {
                Self(Zeroizing::new(text))
            }

            /// The text, for the one call that needs it.
            pub fn expose(&self) -> &str {
                self.0.as_str()
            }

            /// True when nothing (or only spaces) was typed.
            pub fn is_blank(&self) -> bool {
                self.0.trim().is_empty()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                String::deserialize(d).map(Self::new)
            }
        }
    };
}

secret!(
    /// A key passphrase.
    Passphrase
);

secret!(
    /// A one-time code from an MFA device.
    MfaCode
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_text() {
        let p = Passphrase::new("correct horse battery".into());
        let c = MfaCode::new("123456".into());
        let shown = format!("{p:?} {c:?} {:?}", Some(&c));
        assert!(
            !shown.contains("horse") && !shown.contains("123456"),
            "{shown}"
        );
        assert_eq!(p.expose(), "correct horse battery");
        assert!(!c.is_blank() && MfaCode::new(" ".into()).is_blank());
    }

    #[test]
    fn deserialises_from_a_string() {
        let c: MfaCode = serde_json::from_str("\"654321\"").unwrap();
        assert_eq!(c.expose(), "654321");
    }
}
