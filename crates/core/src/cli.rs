//! Command-line argument groups shared by every burnlp binary, flattened into their `clap`
//! argument structs so that each flag is declared (and validated) in one place.

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::device::{DeviceError, parse_device, training_device};

/// `--device`: where models run.
#[derive(clap::Args, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DeviceArgs {
    /// Compute device: `cpu` (burn's Flex backend), `wgpu[:N]` or `cuda[:N]` (the last two in
    /// builds with the `wgpu` / `cuda` cargo feature).
    #[arg(long = "device", default_value = "cpu", value_parser = check_device)]
    pub device: String,
}

impl DeviceArgs {
    /// The device for inference.
    pub fn inference(&self) -> Result<Device, DeviceError> {
        parse_device(&self.device)
    }

    /// The device with automatic differentiation, for training.
    pub fn training(&self) -> Result<Device, DeviceError> {
        training_device(&self.device)
    }
}

impl Default for DeviceArgs {
    fn default() -> Self {
        Self::from("cpu")
    }
}

impl From<&str> for DeviceArgs {
    fn from(device: &str) -> Self {
        Self {
            device: device.to_string(),
        }
    }
}

/// The device string, so `parse_device(&args.device)` reads as before.
impl std::ops::Deref for DeviceArgs {
    type Target = str;

    fn deref(&self) -> &str {
        &self.device
    }
}

impl std::fmt::Display for DeviceArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.device)
    }
}

/// `--encoder`: the pretrained encoder under a task model, or `tiny`.
#[derive(clap::Args, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EncoderArgs {
    /// The encoder: a Hugging Face model directory or id (`org/name[@revision]`, from the local
    /// cache or downloaded), an E5S1 `.bin` file, or `tiny` for a small random BERT whose
    /// WordPiece vocabulary is learned from the training data.
    #[arg(long = "encoder", default_value = "tiny")]
    pub encoder: String,
}

impl EncoderArgs {
    /// The value that asks for a small random encoder.
    pub const TINY: &'static str = "tiny";

    /// The model reference, or `None` for `tiny`.
    pub fn pretrained(&self) -> Option<&str> {
        (self.encoder != Self::TINY).then_some(self.encoder.as_str())
    }
}

impl Default for EncoderArgs {
    fn default() -> Self {
        Self::from(Self::TINY)
    }
}

impl From<&str> for EncoderArgs {
    fn from(encoder: &str) -> Self {
        Self {
            encoder: encoder.to_string(),
        }
    }
}

/// `--out` and `--resume` of every `train` subcommand.
#[derive(clap::Args, Debug, Clone, PartialEq, Eq)]
pub struct RunArgs {
    /// Run directory: `config.json`, `metrics.jsonl`, `checkpoints/`, `best/`, `last/` and the
    /// task's own files (model description, tokenizer or vocabulary).
    #[arg(long)]
    pub out: std::path::PathBuf,
    /// Continue the newest checkpoint of the run directory (its `config.json` must match).
    #[arg(long)]
    pub resume: bool,
}

/// `--model` and `--device` of every subcommand that applies a trained model.
#[derive(clap::Args, Debug, Clone, PartialEq, Eq)]
pub struct ModelArgs {
    /// Run directory of a trained model (written by `train`).
    #[arg(long)]
    pub model: std::path::PathBuf,
    /// Where the model runs.
    #[command(flatten)]
    pub device: DeviceArgs,
}

/// `--json` and `--out` of every `demo` subcommand.
#[derive(clap::Args, Debug, Clone, Default, PartialEq, Eq)]
pub struct DemoArgs {
    /// Print each result row as one JSON object on a line (what `cargo xtask demo` reads).
    #[arg(long)]
    pub json: bool,
    /// Directory for the demo's runs and files [default: target/burnlp/demo/TASK].
    #[arg(long)]
    pub out: Option<std::path::PathBuf>,
}

impl DemoArgs {
    /// The output directory of `task`'s demo.
    pub fn dir(&self, task: &str) -> std::path::PathBuf {
        self.out
            .clone()
            .unwrap_or_else(|| std::path::Path::new("target/burnlp/demo").join(task))
    }
}

/// Parse-time validators for numeric flags (`#[arg(value_parser = cli::positive)]`), so a bad
/// number is a usage error naming the flag rather than a failure deep inside a run.
fn parse_number<T: std::str::FromStr>(s: &str) -> Result<T, String>
where
    T::Err: std::fmt::Display,
{
    s.trim().parse().map_err(|e| format!("`{s}`: {e}"))
}

/// An integer ≥ 1 (batch sizes, epochs, steps, beam sizes).
pub fn positive(s: &str) -> Result<usize, String> {
    match parse_number::<usize>(s)? {
        0 => Err("must be at least 1".into()),
        v => Ok(v),
    }
}

/// A finite number > 0 (learning rates, temperatures).
pub fn positive_f64(s: &str) -> Result<f64, String> {
    let v: f64 = parse_number(s)?;
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(format!("{v} is not a finite number > 0"))
    }
}

/// A finite number ≥ 0 (weight decay, penalties).
pub fn non_negative_f64(s: &str) -> Result<f64, String> {
    let v: f64 = parse_number(s)?;
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(format!("{v} is not a finite number ≥ 0"))
    }
}

/// A number in [0, 1] (dropout, warm-up fractions, smoothing).
pub fn fraction(s: &str) -> Result<f64, String> {
    let v: f64 = parse_number(s)?;
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} is not in [0, 1]"))
    }
}

/// A number in (0, 1] (nucleus mass, sampling fractions).
pub fn probability(s: &str) -> Result<f64, String> {
    let v: f64 = parse_number(s)?;
    if v > 0.0 && v <= 1.0 {
        Ok(v)
    } else {
        Err(format!("{v} is not in (0, 1]"))
    }
}

/// Rejects at parse time a device string this build cannot run.
fn check_device(spec: &str) -> Result<String, String> {
    parse_device(spec)
        .map(|_| spec.to_string())
        .map_err(|e| e.to_string())
}

/// The socket address of a server's `--addr`: `host:port`, `host` alone (`default_port`), an IP
/// address with or without a port (`[::1]:8000`, `::1`); a host name is resolved and its first
/// IPv4 address preferred (`localhost` is `127.0.0.1`). The error says what is wrong.
pub fn socket_addr(addr: &str, default_port: u16) -> Result<std::net::SocketAddr, String> {
    use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
    if let Ok(socket) = addr.parse::<SocketAddr>() {
        return Ok(socket);
    }
    if let Ok(ip) = addr.trim_matches(['[', ']']).parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, default_port));
    }
    let (host, port) = match addr.rsplit_once(':') {
        Some((host, port)) => {
            let port = port
                .parse::<u16>()
                .map_err(|_| format!("`{port}` is not a port number"))?;
            (host, port)
        }
        None => (addr, default_port),
    };
    let candidates: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve `{host}`: {e}"))?
        .collect();
    candidates
        .iter()
        .find(|a| a.is_ipv4())
        .or(candidates.first())
        .copied()
        .ok_or_else(|| format!("`{host}` resolves to no address"))
}

/// Exit status of a run that failed on its input: a usage error (clap uses 2 as well), an input
/// file that is missing, unreadable or malformed, a value out of range.
pub const EXIT_BAD_INPUT: i32 = 2;

/// Exit status of a run that failed for a reason other than what it was given: a bug (a panic),
/// the machine (a disk full, memory exhausted, an I/O failure), a network service that failed.
pub const EXIT_FAILURE: i32 = 1;

/// The exit status of a failed run, from its error and the chain of its causes: [`EXIT_FAILURE`]
/// when a cause is an I/O failure of the machine (disk full, out of memory, a broken pipe, a
/// network error) or an HTTP service that failed ([`crate::openai::HttpError`]);
/// [`EXIT_BAD_INPUT`] otherwise — every other error a burnlp tool returns is about what it was
/// given: files (the readers' errors name the file, record and field), flags and settings (a
/// training run that diverges asks for other settings, so it is 2 as well).
pub fn exit_code(error: &(dyn std::error::Error + 'static)) -> i32 {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if is_machine_failure(error) {
            return EXIT_FAILURE;
        }
        cause = error.source();
    }
    EXIT_BAD_INPUT
}

fn is_machine_failure(error: &(dyn std::error::Error + 'static)) -> bool {
    use std::io::ErrorKind;
    if let Some(io) = error.downcast_ref::<std::io::Error>() {
        return !matches!(
            io.kind(),
            ErrorKind::NotFound
                | ErrorKind::PermissionDenied
                | ErrorKind::AlreadyExists
                | ErrorKind::InvalidInput
                | ErrorKind::InvalidData
                | ErrorKind::UnexpectedEof
                | ErrorKind::IsADirectory
                | ErrorKind::NotADirectory
                | ErrorKind::DirectoryNotEmpty
                | ErrorKind::InvalidFilename
                | ErrorKind::FileTooLarge
                | ErrorKind::ReadOnlyFilesystem
                | ErrorKind::AddrInUse
                | ErrorKind::AddrNotAvailable
        );
    }
    error.downcast_ref::<crate::openai::HttpError>().is_some()
        || error.downcast_ref::<ureq::Error>().is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        device: DeviceArgs,
    }

    #[test]
    fn socket_addresses_take_hosts_ips_and_default_ports() {
        assert_eq!(
            socket_addr("localhost", 9).unwrap().to_string(),
            "127.0.0.1:9"
        );
        assert_eq!(
            socket_addr("localhost:81", 9).unwrap().to_string(),
            "127.0.0.1:81"
        );
        assert_eq!(socket_addr("::1", 9).unwrap().to_string(), "[::1]:9");
        assert_eq!(
            socket_addr("0.0.0.0:0", 9).unwrap().to_string(),
            "0.0.0.0:0"
        );
        assert!(
            socket_addr("localhost:http", 9)
                .unwrap_err()
                .contains("port")
        );
    }

    #[test]
    fn exit_code_separates_bad_input_from_failures_of_the_machine() {
        use std::io::{Error, ErrorKind};
        let missing = crate::data::DataError::Read {
            path: "in.json".into(),
            source: Error::from(ErrorKind::NotFound),
        };
        assert_eq!(exit_code(&missing), EXIT_BAD_INPUT);
        let full = crate::data::DataError::Write {
            path: "out.json".into(),
            source: Error::from(ErrorKind::StorageFull),
        };
        assert_eq!(exit_code(&full), EXIT_FAILURE);
        // A cause deep in an anyhow chain decides as well.
        let wrapped = anyhow::Error::new(full).context("writing predictions");
        assert_eq!(exit_code(wrapped.as_ref()), EXIT_FAILURE);
        let diverged = crate::train::TrainError::NonFiniteLoss {
            step: 3,
            epoch: 0,
            batch: 2,
            value: f64::NAN,
            last_checkpoint: None,
        };
        assert_eq!(exit_code(&diverged), EXIT_BAD_INPUT);
        let unreachable = crate::openai::HttpError::Unreachable {
            url: "http://127.0.0.1:9/v1".into(),
            attempts: 3,
        };
        assert_eq!(exit_code(&unreachable), EXIT_FAILURE);
        let bad_setting = crate::train::TrainError::InvalidSetting {
            name: "lr".into(),
            value: -1.0,
        };
        assert_eq!(exit_code(&bad_setting), EXIT_BAD_INPUT);
        let parse = anyhow::anyhow!("`a.tsv` line 3: expected 2 columns, found 1");
        assert_eq!(exit_code(parse.as_ref()), EXIT_BAD_INPUT);
    }

    #[test]
    fn numeric_validators_reject_out_of_range_values() {
        assert_eq!(positive("3"), Ok(3));
        assert!(positive("0").is_err() && positive("-1").is_err() && positive("x").is_err());
        assert_eq!(positive_f64("1e-3"), Ok(1e-3));
        assert!(positive_f64("0").is_err() && positive_f64("NaN").is_err());
        assert!(positive_f64("inf").is_err());
        assert_eq!(non_negative_f64("0"), Ok(0.0));
        assert!(non_negative_f64("-0.1").is_err());
        assert_eq!(fraction("1"), Ok(1.0));
        assert!(fraction("1.5").is_err() && fraction("NaN").is_err());
        assert!(probability("0").is_err() && probability("1").is_ok());
    }

    #[test]
    fn device_flag_defaults_and_is_checked_at_parse_time() {
        let cli = Cli::try_parse_from(["x"]).unwrap();
        assert_eq!(cli.device, DeviceArgs::default());
        assert!(cli.device.inference().is_ok());
        let err = Cli::try_parse_from(["x", "--device", "tpu"])
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("unknown device `tpu`"), "{err}");
        let err = Cli::try_parse_from(["x", "--device", "cuda:x"])
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("bad device index"), "{err}");
    }
}
