//! [`TypeMap`]: values of any type, one per type (the app state `State<T>` extracts, and the
//! typed extensions a socket carries).
//!
//! Layer: a value of the lowest tier; it names no other module.

use std::any::{Any, TypeId};
use std::collections::HashMap;

/// Values of any type, one per type.
#[derive(Default)]
pub(crate) struct TypeMap(HashMap<TypeId, Box<dyn Any + Send + Sync>>);

impl TypeMap {
    /// Stores `value`, replacing the earlier value of its type.
    pub(crate) fn insert<T: Send + Sync + 'static>(&mut self, value: T) {
        self.0.insert(TypeId::of::<T>(), Box::new(value));
    }

    /// A clone of the value of type `T`.
    pub(crate) fn get<T: Clone + Send + Sync + 'static>(&self) -> Option<T> {
        self.0
            .get(&TypeId::of::<T>())
            .and_then(|v| v.downcast_ref::<T>())
            .cloned()
    }
}
