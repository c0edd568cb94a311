//! Parameters addressed by their dotted module path (`encoder.layers.0.query.weight`).
//!
//! Paths are stable across runs, unlike burn's random `ParamId`s, so the trainer keys gradients,
//! optimizer moments, masks and checkpoints by path. This module walks a module's parameters,
//! gathers gradients, and saves or restores all float parameters as a safetensors file whose
//! tensor names are the paths.

use std::collections::BTreeMap;
use std::path::Path;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::{Gradients, Tensor, TensorData};

use super::TrainError;

/// Joins the module stack and a parameter's own name.
fn join(stack: &[String]) -> String {
    stack.join(".")
}

/// Stops gradient tracking of every float parameter whose path is not `trainable`: the backward
/// pass computes no weight gradients for those (activation gradients still flow through them).
/// The optimizer must leave them alone too (e.g. `AdamW::freeze`).
pub fn freeze_except<M: Module>(module: M, trainable: impl Fn(&str) -> bool) -> M {
    struct Freeze<F> {
        stack: Vec<String>,
        trainable: F,
    }
    impl<F: Fn(&str) -> bool> ModuleMapper for Freeze<F> {
        fn enter_module(&mut self, name: &str, _container: &str) {
            self.stack.push(name.to_string());
        }
        fn exit_module(&mut self, _name: &str, _container: &str) {
            self.stack.pop();
        }
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            if (self.trainable)(&join(&self.stack)) {
                param
            } else {
                param.set_require_grad(false)
            }
        }
    }
    module.map(&mut Freeze {
        stack: Vec::new(),
        trainable,
    })
}

/// Path and shape of every float parameter of a module, in visiting order.
pub fn named_shapes<M: Module>(module: &M) -> Vec<(String, Vec<usize>)> {
    struct Shapes {
        stack: Vec<String>,
        out: Vec<(String, Vec<usize>)>,
    }
    impl ModuleVisitor for Shapes {
        fn enter_module(&mut self, name: &str, _container: &str) {
            self.stack.push(name.to_string());
        }
        fn exit_module(&mut self, _name: &str, _container: &str) {
            self.stack.pop();
        }
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.out
                .push((join(&self.stack), param.lazy_shape().dims::<D>().to_vec()));
        }
    }
    let mut visitor = Shapes {
        stack: Vec::new(),
        out: Vec::new(),
    };
    module.visit(&mut visitor);
    visitor.out
}

/// Gradients of one or more backward passes, flattened and keyed by parameter path.
#[derive(Debug, Clone, Default)]
pub struct GradStore {
    grads: BTreeMap<String, Tensor<1>>,
}

impl GradStore {
    /// Collects the gradient of every parameter of `module` that took part in the backward pass
    /// (on the inner, non-autodiff device).
    pub fn collect<M: Module>(module: &M, grads: &Gradients) -> Self {
        struct Collect<'a> {
            stack: Vec<String>,
            grads: &'a Gradients,
            out: BTreeMap<String, Tensor<1>>,
        }
        impl ModuleVisitor for Collect<'_> {
            fn enter_module(&mut self, name: &str, _container: &str) {
                self.stack.push(name.to_string());
            }
            fn exit_module(&mut self, _name: &str, _container: &str) {
                self.stack.pop();
            }
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
                if let Some(grad) = param.val().grad(self.grads) {
                    self.out
                        .insert(join(&self.stack), grad.flatten::<1>(0, D - 1));
                }
            }
        }
        let mut visitor = Collect {
            stack: Vec::new(),
            grads,
            out: BTreeMap::new(),
        };
        module.visit(&mut visitor);
        Self { grads: visitor.out }
    }

    /// Adds another store's gradients to this one (gradient accumulation).
    pub fn accumulate(&mut self, other: GradStore) {
        for (path, grad) in other.grads {
            match self.grads.remove(&path) {
                Some(existing) => self.grads.insert(path, existing + grad),
                None => self.grads.insert(path, grad),
            };
        }
    }

    /// Multiplies every gradient by `factor`.
    pub fn scale(&mut self, factor: f64) {
        let grads = std::mem::take(&mut self.grads);
        self.grads = grads
            .into_iter()
            .map(|(p, g)| (p, g.mul_scalar(factor)))
            .collect();
    }

    /// The flattened gradient of one parameter.
    pub fn get(&self, path: &str) -> Option<&Tensor<1>> {
        self.grads.get(path)
    }

    /// Removes and returns the flattened gradient of one parameter.
    pub fn remove(&mut self, path: &str) -> Option<Tensor<1>> {
        self.grads.remove(path)
    }

    /// Replaces the gradient of one parameter.
    pub fn insert(&mut self, path: String, grad: Tensor<1>) {
        self.grads.insert(path, grad);
    }

    /// Paths that have a gradient.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.grads.keys().map(String::as_str)
    }

    /// Number of parameters with a gradient.
    pub fn len(&self) -> usize {
        self.grads.len()
    }

    /// True when no parameter has a gradient.
    pub fn is_empty(&self) -> bool {
        self.grads.is_empty()
    }

    /// Global L2 norm over all gradients.
    pub fn global_norm(&self) -> f64 {
        let squares: Vec<Tensor<1>> = self
            .grads
            .values()
            .map(|g| g.clone().square().sum())
            .collect();
        if squares.is_empty() {
            return 0.0;
        }
        Tensor::cat(squares, 0).sum().into_scalar::<f64>().sqrt()
    }
}

/// Every float parameter of a module as `(path, shape, values)`.
pub fn parameter_values<M: Module>(module: &M) -> Vec<(String, Vec<usize>, Vec<f32>)> {
    struct Values {
        stack: Vec<String>,
        out: Vec<(String, Vec<usize>, Vec<f32>)>,
    }
    impl ModuleVisitor for Values {
        fn enter_module(&mut self, name: &str, _container: &str) {
            self.stack.push(name.to_string());
        }
        fn exit_module(&mut self, _name: &str, _container: &str) {
            self.stack.pop();
        }
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let tensor = param.val();
            let shape = tensor.dims().to_vec();
            let values = tensor
                .into_data()
                .convert::<f32>()
                .try_to_vec::<f32>()
                .expect("float parameter data");
            self.out.push((join(&self.stack), shape, values));
        }
    }
    let mut visitor = Values {
        stack: Vec::new(),
        out: Vec::new(),
    };
    module.visit(&mut visitor);
    visitor.out
}

/// Serializes named `f32` tensors as safetensors bytes.
pub fn to_safetensors(tensors: &[(String, Vec<usize>, Vec<f32>)]) -> Vec<u8> {
    let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .iter()
        .map(|(name, shape, values)| {
            let raw = values.iter().flat_map(|v| v.to_le_bytes()).collect();
            (name.clone(), shape.clone(), raw)
        })
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = bytes
        .iter()
        .map(|(name, shape, raw)| {
            let view =
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), raw)
                    .expect("shape matches data");
            (name.clone(), view)
        })
        .collect();
    safetensors::serialize(views, None).expect("serializing f32 tensors")
}

/// Named `f32` tensors: name → (shape, values).
pub type NamedTensors = BTreeMap<String, (Vec<usize>, Vec<f32>)>;

/// Reads named `f32` tensors from safetensors bytes.
pub fn from_safetensors(bytes: &[u8], file: &Path) -> Result<NamedTensors, TrainError> {
    let parsed =
        safetensors::SafeTensors::deserialize(bytes).map_err(|e| TrainError::Checkpoint {
            path: file.to_path_buf(),
            message: e.to_string(),
        })?;
    let mut out = BTreeMap::new();
    for (name, view) in parsed.tensors() {
        if view.dtype() != safetensors::Dtype::F32 {
            return Err(TrainError::Checkpoint {
                path: file.to_path_buf(),
                message: format!("tensor `{name}` is {:?}, expected F32", view.dtype()),
            });
        }
        let values = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        out.insert(name, (view.shape().to_vec(), values));
    }
    Ok(out)
}

/// Saves every float parameter of a module as safetensors named by path (atomically).
pub fn save_parameters<M: Module>(module: &M, path: &Path) -> Result<(), TrainError> {
    let values = parameter_values(module);
    // A NaN or infinite weight never reaches a checkpoint or `best/`.
    for (name, _, data) in &values {
        if let Some(index) = data.iter().position(|v| !v.is_finite()) {
            return Err(TrainError::NonFiniteParameter {
                path: path.to_path_buf(),
                parameter: name.clone(),
                index,
                value: f64::from(data[index]),
            });
        }
    }
    let bytes = to_safetensors(&values);
    Ok(crate::data::write_atomic(path, &bytes)?)
}

/// Loads parameters saved by [`save_parameters`] into a module of the same structure.
///
/// Every parameter must be present with its shape; otherwise the error names the offending
/// paths. Parameters keep their autodiff settings.
pub fn load_parameters<M: Module>(module: M, path: &Path) -> Result<M, TrainError> {
    let bytes = std::fs::read(path).map_err(|source| TrainError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let tensors = from_safetensors(&bytes, path)?;
    let expected = named_shapes(&module);
    let mut problems = Vec::new();
    for (name, shape) in &expected {
        match tensors.get(name) {
            None => problems.push(format!("missing `{name}`")),
            Some((found, _)) if found != shape => {
                problems.push(format!("`{name}`: model {shape:?}, file {found:?}"))
            }
            Some(_) => {}
        }
    }
    if !problems.is_empty() {
        return Err(TrainError::Checkpoint {
            path: path.to_path_buf(),
            message: problems.join("; "),
        });
    }
    struct Load {
        stack: Vec<String>,
        tensors: NamedTensors,
    }
    impl ModuleMapper for Load {
        fn enter_module(&mut self, name: &str, _container: &str) {
            self.stack.push(name.to_string());
        }
        fn exit_module(&mut self, _name: &str, _container: &str) {
            self.stack.pop();
        }
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            let (id, tensor, mapper) = param.consume();
            let (shape, values) = self
                .tensors
                .remove(&join(&self.stack))
                .expect("checked above");
            let device = tensor.device();
            let require_grad = tensor.is_require_grad();
            let data = TensorData::new(values, shape).convert_dtype(tensor.dtype());
            let mut loaded = Tensor::<D>::from_data(data, &device);
            if require_grad {
                loaded = loaded.require_grad();
            }
            Param::from_mapped_value(id, loaded, mapper)
        }
    }
    Ok(module.map(&mut Load {
        stack: Vec::new(),
        tensors,
    }))
}
