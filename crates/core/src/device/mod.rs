//! Device selection: the one place in burnlp that names concrete burn backends.
//!
//! Model code takes a runtime [`Device`] and never asks which backend it is. Binaries turn a
//! `--device` string into a device with [`parse_device`]:
//!
//! | string            | backend                                   | cargo feature |
//! |-------------------|-------------------------------------------|---------------|
//! | `cpu`, `flex`     | burn's pure-Rust Flex CPU backend         | (always)      |
//! | `wgpu`, `wgpu:N`  | wgpu (WGSL), default or N-th discrete GPU | `wgpu`        |
//! | `cuda`, `cuda:N`  | CUDA, default or N-th GPU                 | `cuda`        |
//!
//! Training wraps the device with [`Device::autodiff`]; see [`training_device`].

pub use burn::tensor::Device;

pub mod kernels;

/// A `--device` string that names no backend compiled into this build.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// The string is not of the form `cpu`, `wgpu[:N]` or `cuda[:N]`.
    #[error("unknown device `{0}` (expected cpu, wgpu[:N] or cuda[:N])")]
    Unknown(String),
    /// The backend exists but this build was compiled without its cargo feature.
    #[error("device `{device}` needs burnlp built with the `{feature}` cargo feature")]
    NotCompiled {
        /// The requested device string.
        device: String,
        /// The cargo feature that enables it.
        feature: &'static str,
    },
    /// The index after `:` is not a number.
    #[error("bad device index in `{0}`")]
    BadIndex(String),
}

/// The device kinds this build can run on, for `--help` texts.
pub fn available_devices() -> Vec<&'static str> {
    let mut kinds = vec!["cpu"];
    if cfg!(feature = "wgpu") {
        kinds.push("wgpu");
    }
    if cfg!(feature = "cuda") {
        kinds.push("cuda");
    }
    kinds
}

/// Parses a `--device` string (`cpu`, `flex`, `wgpu`, `wgpu:1`, `cuda`, `cuda:1`) into a device
/// for inference.
pub fn parse_device(spec: &str) -> Result<Device, DeviceError> {
    let spec = spec.trim();
    let (kind, index) = match spec.split_once(':') {
        Some((kind, index)) => {
            let index: usize = index
                .parse()
                .map_err(|_| DeviceError::BadIndex(spec.to_string()))?;
            (kind, Some(index))
        }
        None => (spec, None),
    };
    match kind.to_ascii_lowercase().as_str() {
        "cpu" | "flex" if index.is_none() => Ok(Device::flex()),
        "wgpu" => wgpu_device(spec, index),
        "cuda" => cuda_device(spec, index),
        _ => Err(DeviceError::Unknown(spec.to_string())),
    }
}

/// Parses a `--device` string and enables automatic differentiation on it, for training.
pub fn training_device(spec: &str) -> Result<Device, DeviceError> {
    parse_device(spec).map(Device::autodiff)
}

/// True when tensors on `device` live in host memory (the CPU backend), so code may work on
/// their values directly. Autodiff wrapping is ignored.
pub fn is_host(device: &Device) -> bool {
    *device == Device::flex()
}

/// The default CPU device (Flex), used by tests and the demo.
pub fn cpu() -> Device {
    Device::flex()
}

#[cfg(feature = "wgpu")]
fn wgpu_device(_spec: &str, index: Option<usize>) -> Result<Device, DeviceError> {
    use burn::tensor::DeviceKind;
    Ok(Device::wgpu(match index {
        Some(index) => DeviceKind::DiscreteGpu(index),
        None => DeviceKind::DefaultDevice,
    }))
}

#[cfg(not(feature = "wgpu"))]
fn wgpu_device(spec: &str, _index: Option<usize>) -> Result<Device, DeviceError> {
    Err(DeviceError::NotCompiled {
        device: spec.to_string(),
        feature: "wgpu",
    })
}

#[cfg(feature = "cuda")]
fn cuda_device(_spec: &str, index: Option<usize>) -> Result<Device, DeviceError> {
    use burn::tensor::DeviceIndex;
    Ok(Device::cuda(match index {
        Some(index) => DeviceIndex::Specified(index),
        None => DeviceIndex::Default,
    }))
}

#[cfg(not(feature = "cuda"))]
fn cuda_device(spec: &str, _index: Option<usize>) -> Result<Device, DeviceError> {
    Err(DeviceError::NotCompiled {
        device: spec.to_string(),
        feature: "cuda",
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Tensor;

    #[test]
    fn cpu_strings_give_a_working_device() {
        for spec in ["cpu", "CPU", " flex "] {
            let device = parse_device(spec).unwrap();
            let sum = Tensor::<1>::from_floats([1.0, 2.0], &device)
                .sum()
                .into_scalar::<f32>();
            assert_eq!(sum, 3.0);
        }
    }

    #[test]
    fn cpu_is_host() {
        assert!(is_host(&cpu()));
        assert!(is_host(&cpu().autodiff()));
    }

    #[test]
    fn bad_strings_are_errors() {
        assert!(matches!(parse_device("tpu"), Err(DeviceError::Unknown(_))));
        assert!(matches!(
            parse_device("cuda:x"),
            Err(DeviceError::BadIndex(_))
        ));
        assert!(matches!(
            parse_device("cpu:1"),
            Err(DeviceError::Unknown(_))
        ));
        if !cfg!(feature = "cuda") {
            assert!(matches!(
                parse_device("cuda:1"),
                Err(DeviceError::NotCompiled {
                    feature: "cuda",
                    ..
                })
            ));
        }
    }
}
