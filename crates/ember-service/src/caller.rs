//! Who is asking. Every service operation takes the caller, so access checks have one home: today
//! every caller is anonymous and may do everything; authentication fills in who it is.

/// The identity behind a request, established by the transport that received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    identity: Identity,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Identity {
    /// Nobody in particular: ember runs without authentication.
    Anonymous,
}

impl Caller {
    pub fn anonymous() -> Caller {
        Caller { identity: Identity::Anonymous }
    }

    pub fn is_anonymous(&self) -> bool {
        self.identity == Identity::Anonymous
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn without_authentication_every_caller_is_anonymous() {
        assert!(super::Caller::anonymous().is_anonymous());
    }
}
