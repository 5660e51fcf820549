pub mod remote_write;
