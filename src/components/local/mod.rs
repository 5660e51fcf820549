//! `local.*`: components that read the local machine — today `local.file`,
//! whose `content` export feeds secrets and settings into other components'
//! arguments. `watch` is the file-change detection `local.file` and
//! `discovery.file` share.

pub mod file;
pub mod watch;
