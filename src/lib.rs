pub mod cli;
pub mod controller;
pub mod syntax;
