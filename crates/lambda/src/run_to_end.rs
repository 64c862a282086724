//! Invocations that run to their end when their caller stops waiting.
//!
//! Lambda does not cancel a synchronous invocation whose client hung up: the function runs to
//! completion, with its side effects, and its environment stays warm. Here the caller is a
//! future that hyper drops when the client's connection closes, and dropping an invocation
//! midway would drop its environment, which kills the runtime process (its next invocation is
//! then a cold start). [`RunToEnd`] keeps the invocation going instead: dropped before its
//! future finished, it hands the future to a task of its own.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A future that, dropped before it completes, finishes in a task of its own; its output is
/// then discarded.
pub(crate) struct RunToEnd<T: Send + 'static> {
    future: Option<Pin<Box<dyn Future<Output = T> + Send>>>,
}

impl<T: Send + 'static> RunToEnd<T> {
    pub(crate) fn new(future: impl Future<Output = T> + Send + 'static) -> Self {
        Self {
            future: Some(Box::pin(future)),
        }
    }
}

impl<T: Send + 'static> Future for RunToEnd<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let Some(future) = self.future.as_mut() else {
            // Only reachable by polling again after completion, which futures must not do.
            return Poll::Pending;
        };
        let output = std::task::ready!(future.as_mut().poll(cx));
        self.future = None;
        Poll::Ready(output)
    }
}

impl<T: Send + 'static> Drop for RunToEnd<T> {
    fn drop(&mut self) {
        if let Some(future) = self.future.take() {
            // Outside a runtime (the server is exiting) there is nothing left to finish on.
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(async move {
                    future.await;
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    #[tokio::test]
    async fn a_dropped_caller_leaves_the_work_running_to_its_end() {
        let finished = Arc::new(AtomicBool::new(false));
        let flag = finished.clone();
        let (started_tx, started_rx) = tokio::sync::oneshot::channel();
        let work = RunToEnd::new(async move {
            let _ = started_tx.send(());
            tokio::time::sleep(Duration::from_millis(50)).await;
            flag.store(true, Ordering::SeqCst);
        });
        let caller = tokio::spawn(work);
        started_rx.await.unwrap();
        caller.abort();
        assert!(caller.await.unwrap_err().is_cancelled());
        assert!(!finished.load(Ordering::SeqCst));
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(finished.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn a_waited_for_future_gives_its_output() {
        assert_eq!(RunToEnd::new(async { 7 }).await, 7);
    }
}
