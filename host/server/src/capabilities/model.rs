//! Chat-model inference for plugins: the tenant's OpenAI-compatible provider
//! (`POST {base_url}/chat/completions`, its key added here and never shown to
//! the plugin), or the built-in deterministic model when none is set.

use std::time::Duration;

use pa_runtime::{ChatMessage, ChatOptions, Completion};
use pa_store::{ModelProvider, Store};
use serde_json::{Value, json};

use super::provider_hosts::InternalHosts;
use crate::auth::Sealer;

/// How long a provider may take to answer.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(120);

/// The name the built-in model answers with.
pub const BUILTIN_MODEL: &str = "builtin";

/// The purpose a provider's API key is sealed for.
pub fn key_purpose(tenant: &str) -> String {
    format!("model-provider/{tenant}")
}

/// Answers chat requests per tenant. Cheap to clone.
#[derive(Clone)]
pub struct Models {
    store: Store,
    sealer: Sealer,
    internal_hosts: InternalHosts,
    http: reqwest::Client,
}

impl Models {
    /// Models configured in `store`, keys opened with `sealer`, providers
    /// at public addresses or at the `internal_hosts` the operator allows.
    pub fn new(store: Store, sealer: Sealer, internal_hosts: InternalHosts) -> Models {
        let http = reqwest::Client::builder()
            .timeout(PROVIDER_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(internal_hosts.resolver())
            .build()
            .expect("a plain HTTP client builds");
        Models {
            store,
            sealer,
            internal_hosts,
            http,
        }
    }

    /// Refuses a provider URL at a literal internal address the operator
    /// did not allow.
    pub fn check_url(&self, url: &reqwest::Url) -> Result<(), String> {
        self.internal_hosts.check_url(url)
    }

    /// Whether the tenant has a provider (else the built-in model answers).
    pub async fn has_provider(&self, tenant: &str) -> Result<bool, String> {
        let provider = self.store.model_provider(tenant).await;
        provider
            .map(|p| p.is_some())
            .map_err(|e| format!("cannot read the tenant's model provider: {e}"))
    }

    /// Answers `messages` with the tenant's provider, or the built-in model.
    pub async fn chat(
        &self,
        tenant: &str,
        messages: &[ChatMessage],
        options: &ChatOptions,
    ) -> Result<Completion, String> {
        let provider = self
            .store
            .model_provider(tenant)
            .await
            .map_err(|e| format!("cannot read the tenant's model provider: {e}"))?;
        match provider {
            None => Ok(builtin(messages, options)),
            Some(provider) => self.ask_provider(tenant, &provider, messages, options).await,
        }
    }

    async fn ask_provider(
        &self,
        tenant: &str,
        provider: &ModelProvider,
        messages: &[ChatMessage],
        options: &ChatOptions,
    ) -> Result<Completion, String> {
        let mut body = json!({
            "model": provider.model,
            "messages": messages.iter().map(|m| json!({"role": m.role, "content": m.content})).collect::<Vec<_>>(),
        });
        if let Some(t) = options.temperature {
            body["temperature"] = json!(t);
        }
        if let Some(n) = options.max_tokens {
            body["max_tokens"] = json!(n);
        }
        if options.json {
            body["response_format"] = json!({"type": "json_object"});
        }
        let url = format!("{}/chat/completions", provider.base_url.trim_end_matches('/'));
        let parsed =
            reqwest::Url::parse(&url).map_err(|e| format!("the model provider's URL {url} is not valid: {e}"))?;
        self.internal_hosts
            .check_url(&parsed)
            .map_err(|refused| format!("the model provider at {} is refused: {refused}", provider.base_url))?;
        let mut request = self.http.post(parsed).json(&body);
        if let Some(sealed) = &provider.api_key_sealed {
            let key = self
                .sealer
                .open(&key_purpose(tenant), sealed)
                .ok_or("the model provider's API key cannot be opened with this platform's secret; set it again")?;
            request = request.bearer_auth(key);
        }
        let response = request.send().await.map_err(|e| {
            format!(
                "the model provider at {} cannot be reached: {}",
                provider.base_url,
                error_chain(&e.without_url())
            )
        })?;
        let status = response.status();
        let answer: Value = response
            .json()
            .await
            .map_err(|_| format!("the model provider answered {status} without a JSON body"))?;
        if !status.is_success() {
            let reason = answer["error"]["message"].as_str().unwrap_or("no reason given");
            return Err(format!("the model provider answered {status}: {reason}"));
        }
        let content = answer["choices"][0]["message"]["content"]
            .as_str()
            .ok_or("the model provider's answer has no choices[0].message.content")?;
        let tokens = |name: &str| answer["usage"][name].as_u64().unwrap_or(0).min(u64::from(u32::MAX)) as u32;
        Ok(Completion {
            content: content.to_string(),
            model: answer["model"].as_str().unwrap_or(&provider.model).to_string(),
            prompt_tokens: tokens("prompt_tokens"),
            completion_tokens: tokens("completion_tokens"),
        })
    }
}

/// An error and its causes, `: `-separated (reqwest names only the outer one).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cause = e.source();
    }
    text
}

/// Words too common to say what a text is about.
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "i", "in", "is", "it", "its", "of",
    "on", "or", "our", "that", "the", "their", "this", "to", "was", "we", "were", "will", "with", "you", "your",
];

/// The built-in model: deterministic and extractive. It answers with the
/// first sentence of the last user message and that message's most frequent
/// words (ties in order of appearance); as `{"summary", "keywords"}` when a
/// JSON answer is asked for. The same messages always give the same answer.
pub fn builtin(messages: &[ChatMessage], options: &ChatOptions) -> Completion {
    let text = messages
        .iter()
        .rev()
        .find(|m| m.role == "user")
        .map_or("", |m| m.content.as_str());
    let summary = first_sentence(text);
    let keywords = keywords(text, 5);
    let content = if options.json {
        json!({"summary": summary, "keywords": keywords}).to_string()
    } else if keywords.is_empty() {
        summary.to_string()
    } else {
        format!("{summary}\nKeywords: {}", keywords.join(", "))
    };
    let count = |s: &str| s.split_whitespace().count().min(u32::MAX as usize) as u32;
    Completion {
        prompt_tokens: messages.iter().map(|m| count(&m.content)).sum(),
        completion_tokens: count(&content),
        content,
        model: BUILTIN_MODEL.to_string(),
    }
}

fn first_sentence(text: &str) -> &str {
    let text = text.trim();
    let end = text
        .char_indices()
        .find(|&(i, c)| {
            matches!(c, '.' | '!' | '?' | '\n') && text[i + c.len_utf8()..].starts_with(char::is_whitespace)
        })
        .map_or(text.len(), |(i, c)| i + c.len_utf8());
    text[..end].trim()
}

fn keywords(text: &str, n: usize) -> Vec<String> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|w| w.chars().count() > 2 && !STOP_WORDS.contains(&w.as_str()))
    {
        match counts.iter_mut().find(|(w, _)| *w == word) {
            Some((_, c)) => *c += 1,
            None => counts.push((word, 1)),
        }
    }
    // A stable sort keeps the order of appearance among equal counts.
    counts.sort_by_key(|(_, count)| std::cmp::Reverse(*count));
    counts.into_iter().take(n).map(|(w, _)| w).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(text: &str) -> Vec<ChatMessage> {
        vec![
            ChatMessage {
                role: "system".into(),
                content: "Be brief.".into(),
            },
            ChatMessage {
                role: "user".into(),
                content: text.into(),
            },
        ]
    }

    #[test]
    fn the_builtin_model_is_deterministic_and_extractive() {
        let options = ChatOptions {
            temperature: None,
            max_tokens: None,
            json: true,
        };
        let text = "Extract invoice totals from scanned invoices. Invoices arrive daily; totals matter.";
        let a = builtin(&user(text), &options);
        assert_eq!(a.content, builtin(&user(text), &options).content);
        let answer: Value = serde_json::from_str(&a.content).unwrap();
        assert_eq!(answer["summary"], "Extract invoice totals from scanned invoices.");
        assert_eq!(
            answer["keywords"],
            json!(["totals", "invoices", "extract", "invoice", "scanned"])
        );
        assert_eq!(a.model, BUILTIN_MODEL);
        assert_eq!(a.prompt_tokens, 2 + 11);
        let plain = builtin(&user("Hello there"), &ChatOptions { json: false, ..options });
        assert_eq!(plain.content, "Hello there\nKeywords: hello, there");
    }
}
