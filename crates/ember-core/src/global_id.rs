//! Relay global ids as Phoenix issues them: base64 of `"<Type>:<rowid>"`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobalId {
    pub type_name: String,
    pub rowid: i64,
}

impl GlobalId {
    pub fn new(type_name: &str, rowid: i64) -> Self {
        Self { type_name: type_name.to_string(), rowid }
    }

    /// Encodes `type_name:rowid` as standard base64, the form Phoenix clients expect.
    pub fn encode(type_name: &str, rowid: i64) -> String {
        STANDARD.encode(format!("{type_name}:{rowid}"))
    }

    /// Decodes any global id; `None` when the text is not base64 of `Type:integer`.
    pub fn decode(text: &str) -> Option<Self> {
        let bytes = STANDARD.decode(text.trim()).ok()?;
        let decoded = String::from_utf8(bytes).ok()?;
        let (type_name, rowid) = decoded.split_once(':')?;
        if type_name.is_empty() || !type_name.chars().all(|c| c.is_ascii_alphanumeric()) {
            return None;
        }
        Some(Self { type_name: type_name.to_string(), rowid: rowid.parse().ok()? })
    }

    /// Decodes a global id of the expected type and returns its rowid.
    pub fn decode_as(text: &str, type_name: &str) -> Option<i64> {
        Self::decode(text).filter(|id| id.type_name == type_name).map(|id| id.rowid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_phoenix_ids() {
        assert_eq!(GlobalId::encode("Project", 2), "UHJvamVjdDoy");
        assert_eq!(GlobalId::decode("UHJvamVjdDoy"), Some(GlobalId::new("Project", 2)));
        assert_eq!(GlobalId::decode_as("UHJvamVjdDoy", "Project"), Some(2));
        assert_eq!(GlobalId::decode_as("UHJvamVjdDoy", "Span"), None);
    }

    #[test]
    fn rejects_text_that_is_not_an_id() {
        assert_eq!(GlobalId::decode("default"), None);
        assert_eq!(GlobalId::decode("not base64!"), None);
        // base64 of "Project:x"
        assert_eq!(GlobalId::decode("UHJvamVjdDp4"), None);
    }
}
