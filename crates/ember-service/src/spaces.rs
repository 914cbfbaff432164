//! Arize AX spaces. ember has none of its own: every project is in one space, and any space id or
//! name a client sends stands for it. The `arize` SDK names a space on nearly every call and
//! matches space names exactly, so the space is reported under whatever name was asked for, with
//! an id the SDK recognises as an id (base64 of `Space:<name>`).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::error::Result;
use crate::Caller;

/// The space's name when a client names none.
pub const DEFAULT_SPACE: &str = "default";

/// A space as a client sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Space {
    pub id: String,
    pub name: String,
}

impl Space {
    /// The space under `name`.
    pub fn named(name: &str) -> Space {
        Space { id: STANDARD.encode(format!("Space:{name}")), name: name.to_string() }
    }

    /// The space a client's `space_id` or `space_name` stands for (either may be absent).
    pub fn of(space_id: Option<&str>, space_name: Option<&str>) -> Space {
        match (space_id.filter(|id| !id.is_empty()), space_name.filter(|name| !name.is_empty())) {
            (Some(id), _) => Space { id: id.to_string(), name: Self::name_in(id).unwrap_or_else(|| DEFAULT_SPACE.to_string()) },
            (None, Some(name)) => Space::named(name),
            (None, None) => Space::named(DEFAULT_SPACE),
        }
    }

    /// The name in an id ember made.
    fn name_in(id: &str) -> Option<String> {
        let decoded = String::from_utf8(STANDARD.decode(id).ok()?).ok()?;
        decoded.strip_prefix("Space:").map(str::to_string)
    }
}

pub struct Spaces;

impl Spaces {
    /// The spaces named `name` (one, under that name) or, without a name, the default one.
    pub fn list(&self, _caller: &Caller, name: Option<&str>) -> Result<Vec<Space>> {
        Ok(vec![Space::named(name.filter(|name| !name.is_empty()).unwrap_or(DEFAULT_SPACE))])
    }
}
