//! Wrappers for hoist, the docker CLI, skopeo and a throwaway pass store.
