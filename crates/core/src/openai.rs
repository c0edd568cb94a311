//! A client of OpenAI-compatible HTTP endpoints (vLLM, llama.cpp's server, TGI, the OpenAI API,
//! and the servers this workspace runs): JSON requests with a bearer key, a whole-request
//! timeout, and retries with doubling back-off on connection errors, 429 and 5xx responses.
//!
//! Tasks build their own request bodies for `/v1/completions` and call [`OpenAiClient::post`];
//! `/v1/chat/completions`, with text and image content parts (images as `data:` URLs, as vision
//! models take them), has typed requests here ([`ChatRequest`], [`OpenAiClient::chat`]).

use std::time::Duration;

use base64::Engine as _;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// What can go wrong talking to an endpoint; each message names the URL.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// No connection could be made in any attempt.
    #[error("cannot reach {url} after {attempts} attempts (is the server running?)")]
    Unreachable {
        /// The URL called.
        url: String,
        /// Attempts made.
        attempts: usize,
    },
    /// The server answered with a status that retrying cannot fix (4xx other than 429).
    #[error("{url}: HTTP {status}: {body}")]
    Status {
        /// The URL called.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The response body (trimmed).
        body: String,
    },
    /// Every attempt failed (429, 5xx, timeouts).
    #[error("{url}: failed after {attempts} attempts: {last}")]
    Failed {
        /// The URL called.
        url: String,
        /// Attempts made.
        attempts: usize,
        /// The last failure.
        last: String,
    },
    /// A 200 response whose body is not the expected JSON.
    #[error("{url}: unreadable response: {message}")]
    BadResponse {
        /// The URL called.
        url: String,
        /// What was wrong.
        message: String,
    },
}

/// Transport settings of a client.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// Retries after a failed attempt (connection error, timeout, 429 or 5xx).
    pub retries: usize,
    /// Wait before the first retry; doubled at each further one.
    pub backoff: Duration,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Sent as `Authorization: Bearer KEY` when present.
    pub api_key: Option<String>,
}

impl Default for ClientSettings {
    fn default() -> Self {
        Self {
            retries: 3,
            backoff: Duration::from_millis(200),
            timeout: Duration::from_secs(120),
            api_key: None,
        }
    }
}

impl ClientSettings {
    /// Takes the key from the environment variable `name` when it is set and not empty (and no
    /// key was given explicitly).
    #[must_use]
    pub fn with_env_key(mut self, name: &str) -> Self {
        if self.api_key.is_none() {
            self.api_key = std::env::var(name).ok().filter(|k| !k.trim().is_empty());
        }
        self
    }
}

/// A client of one server.
#[derive(Debug, Clone)]
pub struct OpenAiClient {
    base: String,
    settings: ClientSettings,
}

impl OpenAiClient {
    /// A client of the server at `base_url` (e.g. `http://127.0.0.1:8000`); a trailing `/` and
    /// a trailing `/v1` or `/v1/…` path are removed, so an endpoint's full URL also works.
    pub fn new(base_url: &str, settings: ClientSettings) -> Self {
        let mut base = base_url.trim_end_matches('/').to_string();
        if let Some(at) = base
            .find("/v1/")
            .or_else(|| base.ends_with("/v1").then(|| base.len() - 3))
        {
            base.truncate(at);
        }
        Self { base, settings }
    }

    /// The server's base URL.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The transport settings.
    pub fn settings(&self) -> &ClientSettings {
        &self.settings
    }

    /// An HTTP agent with this client's timeout (use one per worker thread: each keeps its own
    /// connection alive).
    pub fn agent(&self) -> ureq::Agent {
        ureq::Agent::config_builder()
            .timeout_global(Some(self.settings.timeout))
            .http_status_as_error(false)
            .build()
            .into()
    }

    /// POSTs `body` as JSON to `path` (e.g. `/v1/completions`) and reads the JSON answer,
    /// retrying as the settings say.
    pub fn post<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        agent: &ureq::Agent,
        path: &str,
        body: &Req,
    ) -> Result<Resp, HttpError> {
        let url = format!("{}{path}", self.base);
        let mut last = String::new();
        let attempts = self.settings.retries + 1;
        for attempt in 0..attempts {
            if attempt > 0 {
                let wait = self.settings.backoff * (1u32 << (attempt - 1).min(16));
                tracing::warn!(%url, attempt, ?wait, error = %last, "retrying request");
                std::thread::sleep(wait);
            }
            let mut request = agent.post(&url);
            if let Some(key) = &self.settings.api_key {
                request = request.header("Authorization", &format!("Bearer {key}"));
            }
            match request.send_json(body) {
                Ok(mut response) => {
                    let status = response.status().as_u16();
                    if status == 200 {
                        return response
                            .body_mut()
                            .with_config()
                            .limit(256 << 20)
                            .read_json::<Resp>()
                            .map_err(|e| HttpError::BadResponse {
                                url,
                                message: e.to_string(),
                            });
                    }
                    let text = response.body_mut().read_to_string().unwrap_or_default();
                    if status != 429 && status < 500 {
                        return Err(HttpError::Status {
                            url,
                            status,
                            body: text.trim().to_string(),
                        });
                    }
                    last = format!("HTTP {status}: {}", text.trim());
                }
                Err(ureq::Error::ConnectionFailed | ureq::Error::Io(_))
                    if attempt + 1 == attempts =>
                {
                    return Err(HttpError::Unreachable { url, attempts });
                }
                Err(e) => last = e.to_string(),
            }
        }
        Err(HttpError::Failed {
            url,
            attempts,
            last,
        })
    }

    /// POSTs a chat request to `/v1/chat/completions`.
    pub fn chat(
        &self,
        agent: &ureq::Agent,
        request: &ChatRequest,
    ) -> Result<ChatResponse, HttpError> {
        self.post(agent, "/v1/chat/completions", request)
    }
}

/// Body of `/v1/chat/completions` (the common fields).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ChatRequest {
    /// Model name.
    pub model: String,
    /// The conversation.
    pub messages: Vec<ChatMessage>,
    /// Most generated tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<usize>,
    /// Sampling temperature (0: greedy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Seed of the sampling stream, where the server supports one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

/// One message of a conversation.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ChatMessage {
    /// `system`, `user` or `assistant`.
    pub role: String,
    /// Text, or content parts.
    pub content: ChatContent,
}

impl ChatMessage {
    /// A system message.
    pub fn system(text: impl Into<String>) -> Self {
        Self {
            role: "system".into(),
            content: ChatContent::Text(text.into()),
        }
    }

    /// A user message.
    pub fn user(text: impl Into<String>) -> Self {
        Self {
            role: "user".into(),
            content: ChatContent::Text(text.into()),
        }
    }

    /// A user message holding images (URLs or `data:` URLs, see [`image_data_url`]) followed by
    /// text, as vision models take them.
    pub fn user_with_images(text: impl Into<String>, image_urls: &[String]) -> Self {
        let mut parts: Vec<ContentPart> = image_urls
            .iter()
            .map(|url| ContentPart::ImageUrl {
                image_url: ImageUrl { url: url.clone() },
            })
            .collect();
        parts.push(ContentPart::Text { text: text.into() });
        Self {
            role: "user".into(),
            content: ChatContent::Parts(parts),
        }
    }
}

/// A message's content: a string, or a list of parts.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum ChatContent {
    /// Plain text.
    Text(String),
    /// Text and image parts.
    Parts(Vec<ContentPart>),
}

/// One content part.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentPart {
    /// Text.
    Text {
        /// The text.
        text: String,
    },
    /// An image.
    ImageUrl {
        /// Where the image is.
        image_url: ImageUrl,
    },
}

/// An image reference.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ImageUrl {
    /// An `http(s)` or `data:` URL.
    pub url: String,
}

/// Response body of `/v1/chat/completions` (the fields read here).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ChatResponse {
    /// The choices.
    pub choices: Vec<ChatChoice>,
}

impl ChatResponse {
    /// The text of the first choice, when there is one with text.
    pub fn first_text(&self) -> Option<&str> {
        self.choices.first()?.message.content.as_deref()
    }
}

/// One choice of a chat response.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ChatChoice {
    /// Position among the choices.
    #[serde(default)]
    pub index: usize,
    /// The reply.
    pub message: ChatReply,
    /// `"stop"` or `"length"`.
    #[serde(default)]
    pub finish_reason: Option<String>,
}

/// The assistant's reply.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ChatReply {
    /// Normally `assistant`.
    #[serde(default)]
    pub role: String,
    /// The text (absent for tool calls).
    #[serde(default)]
    pub content: Option<String>,
}

/// `data:MIME;base64,…` for image bytes.
pub fn image_data_url(bytes: &[u8], mime: &str) -> String {
    format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_lose_their_api_paths() {
        for url in [
            "http://127.0.0.1:8000",
            "http://127.0.0.1:8000/",
            "http://127.0.0.1:8000/v1",
            "http://127.0.0.1:8000/v1/completions",
            "http://127.0.0.1:8000/v1/chat/completions",
        ] {
            let client = OpenAiClient::new(url, ClientSettings::default());
            assert_eq!(client.base_url(), "http://127.0.0.1:8000", "{url}");
        }
    }

    #[test]
    fn chat_bodies_have_the_openai_shape() {
        let request = ChatRequest {
            model: "m".into(),
            messages: vec![
                ChatMessage::system("be brief"),
                ChatMessage::user_with_images(
                    "what is shown?",
                    &[image_data_url(b"\x89PNG", "image/png")],
                ),
            ],
            max_tokens: Some(8),
            temperature: None,
            seed: None,
        };
        let json = serde_json::to_value(&request).unwrap();
        assert_eq!(json["messages"][0]["content"], "be brief");
        assert_eq!(json["messages"][1]["content"][0]["type"], "image_url");
        assert_eq!(
            json["messages"][1]["content"][0]["image_url"]["url"],
            "data:image/png;base64,iVBORw=="
        );
        assert_eq!(json["messages"][1]["content"][1]["type"], "text");
        assert!(json.get("temperature").is_none());
        let back: ChatRequest = serde_json::from_value(json).unwrap();
        assert_eq!(back, request);
    }

    /// A server answering the queued statuses in turn (then 200 with `{"choices": []}`).
    fn serve(statuses: Vec<u16>) -> (String, std::thread::JoinHandle<usize>) {
        let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
        let url = format!("http://{}", server.server_addr().to_ip().unwrap());
        let handle = std::thread::spawn(move || {
            let mut seen = 0;
            for status in statuses.into_iter().chain([200]) {
                let request = server.recv().unwrap();
                seen += 1;
                let body = if status == 200 {
                    r#"{"choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}}]}"#
                } else {
                    "busy"
                };
                request
                    .respond(tiny_http::Response::from_string(body).with_status_code(status))
                    .unwrap();
                if status == 200 || (status != 429 && status < 500) {
                    break;
                }
            }
            seen
        });
        (url, handle)
    }

    fn fast() -> ClientSettings {
        ClientSettings {
            backoff: Duration::from_millis(1),
            timeout: Duration::from_secs(10),
            ..ClientSettings::default()
        }
    }

    fn ask() -> ChatRequest {
        ChatRequest {
            model: "m".into(),
            messages: vec![ChatMessage::user("hi")],
            max_tokens: None,
            temperature: None,
            seed: None,
        }
    }

    #[test]
    fn retries_busy_servers_and_gives_up_on_client_errors() {
        let (url, server) = serve(vec![503, 429]);
        let client = OpenAiClient::new(&url, fast());
        let reply = client.chat(&client.agent(), &ask()).unwrap();
        assert_eq!(reply.first_text(), Some("ok"));
        assert_eq!(server.join().unwrap(), 3);

        let (url, server) = serve(vec![400]);
        let client = OpenAiClient::new(&url, fast());
        let err = client.chat(&client.agent(), &ask()).unwrap_err();
        assert!(
            matches!(err, HttpError::Status { status: 400, .. }),
            "{err}"
        );
        assert_eq!(server.join().unwrap(), 1);
    }

    #[test]
    fn an_absent_server_is_named() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let client = OpenAiClient::new(
            &format!("http://127.0.0.1:{port}"),
            ClientSettings {
                retries: 1,
                ..fast()
            },
        );
        let err = client.chat(&client.agent(), &ask()).unwrap_err();
        assert!(
            matches!(err, HttpError::Unreachable { attempts: 2, .. }),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains(&format!("127.0.0.1:{port}/v1/chat/completions"))
        );
    }
}
