pub mod cli;
pub mod syntax;
