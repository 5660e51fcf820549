pub mod echo;
pub mod receive_http;
pub mod relabel;
