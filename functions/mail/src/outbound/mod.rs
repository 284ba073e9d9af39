//! MIME out: templates and composition.
