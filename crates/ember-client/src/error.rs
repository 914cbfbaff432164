use reqwest::StatusCode;

/// Why a request to the server failed. Messages name the request and the server's answer.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with an error status; `message` is its (text) body.
    #[error("{request}: the server answered {status}: {message}")]
    Status { request: String, status: StatusCode, message: String },
    /// The server could not be reached or the connection broke.
    #[error("{request}: {source}")]
    Transport {
        request: String,
        #[source]
        source: reqwest::Error,
    },
    /// The server's answer was not what the API promises.
    #[error("{request}: unexpected response: {problem}")]
    Decode { request: String, problem: String },
    /// The client was configured or called with something unusable.
    #[error("{0}")]
    Invalid(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl ClientError {
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            ClientError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Worth another attempt: the server was unreachable, overloaded or failed internally.
    pub fn is_transient(&self) -> bool {
        match self {
            ClientError::Transport { .. } => true,
            ClientError::Status { status, .. } => status.is_server_error() || *status == StatusCode::TOO_MANY_REQUESTS,
            _ => false,
        }
    }
}
