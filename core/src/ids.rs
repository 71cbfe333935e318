//! Newtypes for every identifier, so a consumer id can never be passed where a key id belongs.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }
    };
}

id_type!(
    /// Identifies an API in the catalog.
    ApiId
);
id_type!(
    /// Identifies a consumer (a developer or application calling APIs).
    ConsumerId
);
id_type!(
    /// Identifies an issued API key (never the key itself).
    KeyId
);
id_type!(
    /// Identifies a plan.
    PlanId
);
