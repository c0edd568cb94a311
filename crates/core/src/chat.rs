//! Chat templates: the Jinja templates that Hugging Face tokenizers (`tokenizer_config.json`'s
//! `chat_template`) and GGUF files (`tokenizer.chat_template`) carry to turn a conversation into
//! the prompt text a chat model was trained on.
//!
//! Rendered with `minijinja` configured as `transformers`' `apply_chat_template` configures
//! Jinja: `trim_blocks` and `lstrip_blocks`, Python string methods (`.strip()`,
//! `.startswith()`, …), `raise_exception(message)`, and the variables `messages`,
//! `add_generation_prompt`, `bos_token` and `eos_token`. ChatML, Llama-2/3, Mistral, Qwen and
//! Gemma templates render; a template using something else is an error that says what.

use minijinja::value::Serde;
use minijinja::{Environment, Error, ErrorKind, context};
use serde::{Deserialize, Serialize};

/// One turn of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// `system`, `user` or `assistant` (templates may accept others).
    pub role: String,
    /// The text of the turn.
    pub content: String,
}

impl ChatMessage {
    /// A message with the given role.
    pub fn new(role: impl Into<String>, content: impl Into<String>) -> Self {
        Self {
            role: role.into(),
            content: content.into(),
        }
    }

    /// A `user` message.
    pub fn user(content: impl Into<String>) -> Self {
        Self::new("user", content)
    }

    /// A `system` message.
    pub fn system(content: impl Into<String>) -> Self {
        Self::new("system", content)
    }
}

/// A chat template that cannot be parsed or rendered.
#[derive(Debug, thiserror::Error)]
#[error("chat template cannot be rendered: {message}")]
pub struct ChatTemplateError {
    /// What minijinja (or the template's `raise_exception`) said, with the template line.
    pub message: String,
}

impl From<Error> for ChatTemplateError {
    fn from(error: Error) -> Self {
        let mut message = error.to_string();
        if let Some(line) = error.line() {
            message.push_str(&format!(" (template line {line})"));
        }
        Self { message }
    }
}

/// A parsed chat template with the special tokens it may refer to.
#[derive(Debug)]
pub struct ChatTemplate {
    env: Environment<'static>,
    bos_token: String,
    eos_token: String,
}

const NAME: &str = "chat";

impl ChatTemplate {
    /// Parses a template; `bos_token` and `eos_token` are the texts of the model's special
    /// tokens (empty when the model has none).
    pub fn new(
        source: impl Into<String>,
        bos_token: impl Into<String>,
        eos_token: impl Into<String>,
    ) -> Result<Self, ChatTemplateError> {
        let mut env = Environment::new();
        env.set_syntax(
            minijinja::syntax::SyntaxConfig::builder()
                .trim_blocks(true)
                .lstrip_blocks(true)
                .build()?,
        );
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_function(
            "raise_exception",
            |message: String| -> Result<String, Error> {
                Err(Error::new(ErrorKind::InvalidOperation, message))
            },
        );
        env.add_template_owned(NAME, source.into())?;
        Ok(Self {
            env,
            bos_token: bos_token.into(),
            eos_token: eos_token.into(),
        })
    }

    /// Renders a conversation; with `add_generation_prompt` the text ends where the assistant's
    /// answer starts (e.g. `<|im_start|>assistant\n`).
    pub fn apply(
        &self,
        messages: &[ChatMessage],
        add_generation_prompt: bool,
    ) -> Result<String, ChatTemplateError> {
        let template = self.env.get_template(NAME)?;
        Ok(template.render(context! {
            messages => Serde(messages),
            add_generation_prompt => add_generation_prompt,
            bos_token => self.bos_token.as_str(),
            eos_token => self.eos_token.as_str(),
        })?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHATML: &str = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are helpful<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

    #[test]
    fn chatml_with_default_system_prompt() {
        let template = ChatTemplate::new(CHATML, "<|im_start|>", "<|im_end|>").unwrap();
        let text = template.apply(&[ChatMessage::user("Hi")], true).unwrap();
        assert_eq!(
            text,
            "<|im_start|>system\nYou are helpful<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
        );
        let text = template
            .apply(&[ChatMessage::system("S"), ChatMessage::user("Q")], false)
            .unwrap();
        assert_eq!(
            text,
            "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nQ<|im_end|>\n"
        );
    }

    #[test]
    fn llama2_style_template_with_strip_and_exception() {
        let source = "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'].strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' ' + message['content'].strip() + ' ' + eos_token }}{% endif %}{% endfor %}";
        let template = ChatTemplate::new(source, "<s>", "</s>").unwrap();
        let text = template
            .apply(
                &[
                    ChatMessage::user("  a "),
                    ChatMessage::new("assistant", "b"),
                    ChatMessage::user("c"),
                ],
                true,
            )
            .unwrap();
        assert_eq!(text, "<s>[INST] a [/INST] b </s>[INST] c [/INST]");
        let err = template
            .apply(&[ChatMessage::new("assistant", "x")], true)
            .unwrap_err();
        assert!(err.message.contains("roles must alternate"), "{err}");
    }

    #[test]
    fn broken_templates_are_errors() {
        let err = ChatTemplate::new("{% for m in messages %}", "", "").unwrap_err();
        assert!(err.to_string().contains("chat template"), "{err}");
        let template = ChatTemplate::new("{{ messages | no_such_filter }}", "", "");
        let err = match template {
            Err(err) => err,
            Ok(t) => t.apply(&[ChatMessage::user("x")], false).unwrap_err(),
        };
        assert!(err.message.contains("no_such_filter"), "{err}");
    }
}
