//! Prompts as the Phoenix prompt hub keeps them: a version's content ([`PromptVersionData`]),
//! validated as Phoenix validates it, template rendering ([`template`]) and the conversion of a
//! version into each provider's request body ([`sdk`]), as the Phoenix clients' `format()` does.

mod invocation;
pub mod sdk;
pub mod template;
mod version;

pub use invocation::{
    AnthropicParameters, AnthropicThinking, AwsParameters, GoogleParameters, GoogleThinkingConfig, InvocationParameters, OpenAiParameters,
};
pub use template::{render_template, template_variables, TemplateError, TemplateFormat};
pub use version::{
    ContentPart, FunctionDefinition, JsonSchemaDefinition, MessageContent, ModelProvider, PromptMessage, PromptTemplate, PromptTool,
    PromptTools, PromptVersionData, ResponseFormat, Role, TemplateType, ToolCallFunction, ToolChoice, IDENTIFIER_PATTERN,
};

/// Phoenix's identifier rule for prompt and tag names: lowercase letters, digits, `_` and `-`,
/// starting and ending with a letter or digit; at most `limits::MAX_NAME_BYTES` long.
pub fn is_identifier(name: &str) -> bool {
    if name.len() > crate::limits::MAX_NAME_BYTES {
        return false;
    }
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    let (Some(first), Some(last)) = (name.chars().next(), name.chars().last()) else { return false };
    allowed(first) && allowed(last) && name.chars().all(|c| allowed(c) || c == '_' || c == '-')
}
