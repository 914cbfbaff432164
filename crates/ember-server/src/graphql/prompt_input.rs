//! Phoenix's GraphQL inputs for a chat prompt version (`ChatPromptVersionInput` and the types
//! under it), and their reading into ember's [`PromptVersionData`] — the same value REST's
//! `POST /v1/prompts` reads, so both are validated by the prompts service alike. Invocation
//! parameters arrive as each provider's camelCase fields and are read as REST's snake_case ones.

use async_graphql::{Enum, InputObject, InputValueError, InputValueResult, Json, OneofObject, Scalar, ScalarType};
use ember_core::prompt::{
    ContentPart, FunctionDefinition, InvocationParameters, JsonSchemaDefinition, MessageContent, ModelProvider, PromptMessage,
    PromptTemplate, PromptTool, PromptTools, PromptVersionData, ResponseFormat, Role, TemplateFormat, TemplateType, ToolCallFunction,
    ToolChoice,
};
use serde_json::{Map, Value};

/// Phoenix's `Identifier` scalar: a prompt or tag name (the prompts service checks its pattern).
pub struct Identifier(pub String);

#[Scalar]
impl ScalarType for Identifier {
    fn parse(value: async_graphql::Value) -> InputValueResult<Self> {
        match value {
            async_graphql::Value::String(text) => Ok(Identifier(text)),
            other => Err(InputValueError::expected_type(other)),
        }
    }

    fn to_value(&self) -> async_graphql::Value {
        async_graphql::Value::String(self.0.clone())
    }
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "PromptTemplateFormat")]
pub enum PromptTemplateFormat {
    Mustache,
    FString,
    None,
}

impl From<PromptTemplateFormat> for TemplateFormat {
    fn from(format: PromptTemplateFormat) -> Self {
        match format {
            PromptTemplateFormat::Mustache => TemplateFormat::Mustache,
            PromptTemplateFormat::FString => TemplateFormat::FString,
            PromptTemplateFormat::None => TemplateFormat::None,
        }
    }
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum PromptMessageRole {
    User,
    System,
    Ai,
    Tool,
}

/// The providers a prompt version may name, as Phoenix's `GenerativeProviderKey` lists them.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum GenerativeProviderKey {
    Openai,
    Anthropic,
    AzureOpenai,
    Google,
    Deepseek,
    Xai,
    Ollama,
    Aws,
    Cerebras,
    Fireworks,
    Groq,
    Moonshot,
    Perplexity,
    Together,
}

impl From<GenerativeProviderKey> for ModelProvider {
    fn from(key: GenerativeProviderKey) -> Self {
        match key {
            GenerativeProviderKey::Openai => ModelProvider::Openai,
            GenerativeProviderKey::Anthropic => ModelProvider::Anthropic,
            GenerativeProviderKey::AzureOpenai => ModelProvider::AzureOpenai,
            GenerativeProviderKey::Google => ModelProvider::Google,
            GenerativeProviderKey::Deepseek => ModelProvider::Deepseek,
            GenerativeProviderKey::Xai => ModelProvider::Xai,
            GenerativeProviderKey::Ollama => ModelProvider::Ollama,
            GenerativeProviderKey::Aws => ModelProvider::Aws,
            GenerativeProviderKey::Cerebras => ModelProvider::Cerebras,
            GenerativeProviderKey::Fireworks => ModelProvider::Fireworks,
            GenerativeProviderKey::Groq => ModelProvider::Groq,
            GenerativeProviderKey::Moonshot => ModelProvider::Moonshot,
            GenerativeProviderKey::Perplexity => ModelProvider::Perplexity,
            GenerativeProviderKey::Together => ModelProvider::Together,
        }
    }
}

#[derive(InputObject)]
pub struct ChatPromptVersionInput {
    description: Option<String>,
    template_format: PromptTemplateFormat,
    template: PromptChatTemplateInput,
    invocation_parameters: PromptInvocationParametersInput,
    tools: Option<PromptToolsInput>,
    response_format: Option<PromptResponseFormatJsonSchemaInput>,
    model_provider: GenerativeProviderKey,
    model_name: String,
    /// Custom providers are not served by ember; a version naming one is refused.
    custom_provider_id: Option<async_graphql::ID>,
}

#[derive(InputObject)]
pub struct PromptChatTemplateInput {
    messages: Vec<PromptMessageInput>,
}

#[derive(InputObject)]
pub struct PromptMessageInput {
    role: PromptMessageRole,
    content: Vec<ContentPartInput>,
}

#[derive(OneofObject)]
pub enum ContentPartInput {
    Text(TextContentValueInput),
    ToolCall(ToolCallContentValueInput),
    ToolResult(ToolResultContentValueInput),
}

#[derive(InputObject)]
pub struct TextContentValueInput {
    text: String,
}

#[derive(InputObject)]
pub struct ToolCallContentValueInput {
    tool_call_id: String,
    tool_call: ToolCallFunctionInput,
}

#[derive(InputObject)]
pub struct ToolCallFunctionInput {
    #[graphql(name = "type", default_with = "Some(\"function\".to_string())")]
    kind: Option<String>,
    name: String,
    arguments: String,
}

#[derive(InputObject)]
pub struct ToolResultContentValueInput {
    tool_call_id: String,
    result: Json<Value>,
}

/// One provider's parameters, in its camelCase GraphQL fields.
#[derive(OneofObject)]
pub enum PromptInvocationParametersInput {
    Openai(Json<Value>),
    Anthropic(Json<Value>),
    Google(Json<Value>),
    Aws(Json<Value>),
}

#[derive(InputObject)]
pub struct PromptToolsInput {
    tools: Vec<PromptToolInput>,
    tool_choice: Option<PromptToolChoiceInput>,
    disable_parallel_tool_calls: Option<bool>,
}

#[derive(OneofObject)]
pub enum PromptToolInput {
    Function(PromptToolFunctionDefinitionInput),
    Raw(Json<Value>),
}

#[derive(InputObject)]
pub struct PromptToolFunctionDefinitionInput {
    name: String,
    description: Option<String>,
    parameters: Option<Json<Value>>,
    strict: Option<bool>,
}

#[derive(OneofObject)]
pub enum PromptToolChoiceInput {
    None(bool),
    ZeroOrMore(bool),
    OneOrMore(bool),
    FunctionName(String),
}

#[derive(InputObject)]
#[graphql(name = "PromptResponseFormatJSONSchemaInput")]
pub struct PromptResponseFormatJsonSchemaInput {
    #[graphql(name = "type")]
    kind: String,
    json_schema: PromptResponseFormatJsonSchemaDefinitionInput,
}

#[derive(InputObject)]
#[graphql(name = "PromptResponseFormatJSONSchemaDefinitionInput")]
pub struct PromptResponseFormatJsonSchemaDefinitionInput {
    name: String,
    description: Option<String>,
    schema: Option<Json<Value>>,
    strict: Option<bool>,
}

#[derive(InputObject)]
pub struct CreatePromptVersionTagInput {
    pub name: Identifier,
    pub description: Option<String>,
}

impl ChatPromptVersionInput {
    /// The version as REST would have received it; the message names what is wrong.
    pub fn into_version(self) -> Result<PromptVersionData, String> {
        if self.custom_provider_id.is_some() {
            return Err("ember does not serve custom model providers; leave customProviderId out".into());
        }
        let messages = self.template.messages.into_iter().map(PromptMessageInput::into_message).collect::<Result<Vec<_>, _>>()?;
        Ok(PromptVersionData {
            description: self.description,
            model_provider: self.model_provider.into(),
            model_name: self.model_name,
            template: PromptTemplate::Chat { messages },
            template_type: TemplateType::Chat,
            template_format: self.template_format.into(),
            invocation_parameters: self.invocation_parameters.into_parameters()?,
            tools: self.tools.map(PromptToolsInput::into_tools).transpose()?,
            response_format: self.response_format.map(PromptResponseFormatJsonSchemaInput::into_format).transpose()?,
        })
    }
}

impl PromptMessageInput {
    fn into_message(self) -> Result<PromptMessage, String> {
        if self.content.is_empty() {
            return Err("a message needs at least one content part".into());
        }
        let role = match self.role {
            PromptMessageRole::User => Role::User,
            PromptMessageRole::System => Role::System,
            PromptMessageRole::Ai => Role::Ai,
            PromptMessageRole::Tool => Role::Tool,
        };
        let parts = self.content.into_iter().map(ContentPartInput::into_part).collect::<Result<Vec<_>, _>>()?;
        Ok(PromptMessage { role, content: MessageContent::Parts(parts) })
    }
}

impl ContentPartInput {
    fn into_part(self) -> Result<ContentPart, String> {
        Ok(match self {
            ContentPartInput::Text(text) => ContentPart::Text { text: text.text },
            ContentPartInput::ToolCall(call) => {
                let kind = call.tool_call.kind.as_deref().unwrap_or("function");
                if kind != "function" {
                    return Err(format!("a tool call's type must be \"function\", not {kind:?}"));
                }
                let function = ToolCallFunction::Function { name: call.tool_call.name, arguments: call.tool_call.arguments };
                ContentPart::ToolCall { tool_call_id: call.tool_call_id, tool_call: function }
            }
            ContentPartInput::ToolResult(result) => {
                ContentPart::ToolResult { tool_call_id: result.tool_call_id, tool_result: result.result.0 }
            }
        })
    }
}

impl PromptToolsInput {
    fn into_tools(self) -> Result<PromptTools, String> {
        if self.tools.is_empty() {
            return Err("tools must list at least one tool".into());
        }
        let tools = self.tools.into_iter().map(PromptToolInput::into_tool).collect::<Result<Vec<_>, _>>()?;
        let tool_choice = self.tool_choice.map(|choice| match choice {
            PromptToolChoiceInput::None(_) => ToolChoice::None,
            PromptToolChoiceInput::ZeroOrMore(_) => ToolChoice::ZeroOrMore,
            PromptToolChoiceInput::OneOrMore(_) => ToolChoice::OneOrMore,
            PromptToolChoiceInput::FunctionName(function_name) => ToolChoice::SpecificFunction { function_name },
        });
        Ok(PromptTools { kind: Default::default(), tools, tool_choice, disable_parallel_tool_calls: self.disable_parallel_tool_calls })
    }
}

impl PromptToolInput {
    fn into_tool(self) -> Result<PromptTool, String> {
        Ok(match self {
            PromptToolInput::Function(function) => PromptTool::Function {
                function: FunctionDefinition {
                    name: function.name,
                    description: function.description,
                    parameters: function.parameters.map(|parameters| object("a function's parameters", parameters.0)).transpose()?,
                    strict: function.strict,
                },
            },
            PromptToolInput::Raw(raw) => PromptTool::Raw { raw: object("a raw tool", raw.0)? },
        })
    }
}

impl PromptResponseFormatJsonSchemaInput {
    fn into_format(self) -> Result<ResponseFormat, String> {
        if self.kind != "json_schema" {
            return Err(format!("a response format's type must be \"json_schema\", not {:?}", self.kind));
        }
        let definition = self.json_schema;
        Ok(ResponseFormat {
            kind: Default::default(),
            json_schema: JsonSchemaDefinition {
                name: definition.name,
                description: definition.description,
                schema: definition.schema.map(|schema| object("a JSON schema", schema.0)).transpose()?,
                strict: definition.strict,
            },
        })
    }
}

fn object(what: &str, value: Value) -> Result<Map<String, Value>, String> {
    match value {
        Value::Object(map) => Ok(map),
        other => Err(format!("{what} must be a JSON object, not {other}")),
    }
}

impl PromptInvocationParametersInput {
    fn into_parameters(self) -> Result<InvocationParameters, String> {
        let (kind, fields) = match self {
            PromptInvocationParametersInput::Openai(fields) => ("openai", fields.0),
            PromptInvocationParametersInput::Anthropic(fields) => ("anthropic", fields.0),
            PromptInvocationParametersInput::Google(fields) => ("google", fields.0),
            PromptInvocationParametersInput::Aws(fields) => ("aws", fields.0),
        };
        let mut parameters = Map::new();
        parameters.insert("type".into(), Value::String(kind.into()));
        parameters.insert(kind.into(), rest_fields(object("invocation parameters", fields)?));
        serde_json::from_value(Value::Object(parameters)).map_err(|error| error.to_string())
    }
}

/// GraphQL's camelCase parameter fields as REST's snake_case ones: nulls (GraphQL's defaults)
/// dropped, enum values lowercased, `extraBody` passed on as sent, and Anthropic's one-of
/// `thinking` (`{"enabled": {"budgetTokens": 2048}}`) as REST's tagged object.
fn rest_fields(fields: Map<String, Value>) -> Value {
    let mut rest = Map::new();
    for (key, value) in fields {
        if value.is_null() {
            continue;
        }
        let key = snake_case(&key);
        let value = match (key.as_str(), value) {
            ("extra_body", value) => value,
            ("thinking", Value::Object(one_of)) if one_of.len() == 1 => tagged(one_of),
            ("reasoning_effort" | "effort" | "display" | "thinking_level", Value::String(name)) => Value::String(name.to_lowercase()),
            (_, Value::Object(nested)) => rest_fields(nested),
            (_, value) => value,
        };
        rest.insert(key, value);
    }
    Value::Object(rest)
}

/// `{"kind": {fields}}` as `{"type": "kind", fields…}`; the disabled marker's own field goes.
fn tagged(one_of: Map<String, Value>) -> Value {
    let mut tagged = Map::new();
    for (kind, fields) in one_of {
        if let Value::Object(fields) = fields {
            if let Value::Object(fields) = rest_fields(fields) {
                tagged = fields;
            }
        }
        tagged.remove("disabled");
        tagged.insert("type".into(), Value::String(kind));
    }
    Value::Object(tagged)
}

fn snake_case(name: &str) -> String {
    let mut snake = String::with_capacity(name.len() + 4);
    for character in name.chars() {
        if character.is_ascii_uppercase() {
            snake.push('_');
            snake.push(character.to_ascii_lowercase());
        } else {
            snake.push(character);
        }
    }
    snake
}
