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

/// Rejects at parse time a device string this build cannot run.
fn check_device(spec: &str) -> Result<String, String> {
    parse_device(spec)
        .map(|_| spec.to_string())
        .map_err(|e| e.to_string())
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
