//! The loop each timely worker thread runs for the life of the data plane.
//!
//! The workers are started once (`timely::execute`) and kept: the controller sends them
//! generations to install, and they keep stepping the dataflows, resolving the
//! producers' acknowledgements after every step and reporting when a closing
//! generation has completed. Commands are broadcast in the same order to every worker,
//! so all of them build the same dataflows in the same order, as timely requires.

use super::dataflow::{self, Generation, Installed};
use std::sync::mpsc::{Receiver, TryRecvError};
use std::sync::Arc;
use timely::worker::Worker;
use timely::ExchangeData;

/// What the controller asks of a worker.
pub(crate) enum Command<D, A> {
    /// Build this generation's dataflow.
    Install(Arc<Generation<D, A>>),
    /// Drop every dataflow and return.
    Shutdown,
}

/// Runs the worker until [`Command::Shutdown`] (or the controller is gone).
pub(crate) fn run<D, A>(worker: &mut Worker, commands: Receiver<Command<D, A>>)
where
    D: ExchangeData + Clone,
    A: Clone + Send + Sync + 'static,
{
    let mut installed: Vec<Installed<D, A>> = Vec::new();
    loop {
        loop {
            match commands.try_recv() {
                Ok(Command::Install(generation)) => {
                    installed.push(dataflow::install(worker, generation));
                }
                Ok(Command::Shutdown) | Err(TryRecvError::Disconnected) => {
                    for mut dataflow in installed.drain(..) {
                        dataflow.abandon();
                        worker.drop_dataflow(dataflow.dataflow);
                    }
                    return;
                }
                Err(TryRecvError::Empty) => break,
            }
        }
        // Parks until an activation (a push, an ack, a clock move, a command's unpark):
        // no timeout, so an idle data plane does not wake up at all.
        worker.step_or_park(None);
        for dataflow in installed.iter_mut() {
            dataflow.after_step();
        }
        installed.retain(|dataflow| {
            if dataflow.drained() {
                worker.drop_dataflow(dataflow.dataflow);
                false
            } else {
                true
            }
        });
    }
}
