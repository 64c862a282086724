//! A private, faster hand-off for our own bootstraps: length-prefixed frames on a Unix socket.
//!
//! One message each way per invocation instead of two HTTP exchanges; invoke-limit measurements
//! put it at about 2.5x the lean-HTTP Runtime API. `provided*` runtimes never see it: they get
//! the standard Runtime API from [`crate::RuntimeApi`].
//!
//! Wire format, both directions: `u32 BE length` of the rest, `u8 kind`, `u16 BE meta length`,
//! meta bytes, payload bytes.
//!
//! | kind | direction | meta | payload |
//! |---|---|---|---|
//! | 1 `READY` | runtime -> us, first frame | - | - |
//! | 2 `INIT_ERROR` | runtime -> us, first frame | error type | error document |
//! | 3 `RESPONSE` | runtime -> us | - | result |
//! | 4 `ERROR` | runtime -> us | error type | error document |
//! | 16 `INVOKE` | us -> runtime | JSON object keyed by the `/next` header names | event |
//!
//! The runtime connects once (the listener then stops accepting, so user code cannot take over
//! the channel), sends `READY` or `INIT_ERROR`, then answers each `INVOKE` with `RESPONSE` or
//! `ERROR`. Any other frame, or one over [`crate::MAX_PAYLOAD_BYTES`], ends the channel.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixListener;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::server::Pending;
use crate::{DispatchError, InitEvent, Invocation, InvocationResult, MAX_PAYLOAD_BYTES, headers};

const READY: u8 = 1;
const INIT_ERROR: u8 = 2;
const RESPONSE: u8 = 3;
const ERROR: u8 = 4;
const INVOKE: u8 = 16;

/// The framed channel of one environment. Dropping it stops its task and removes the socket.
#[derive(Debug)]
pub struct FramedChannel {
    path: PathBuf,
    queue: mpsc::Sender<Pending>,
    init_rx: Option<oneshot::Receiver<InitEvent>>,
    init_event: Option<InitEvent>,
    cancel: CancellationToken,
}

impl FramedChannel {
    /// Binds a Unix socket at `path` (which must not exist; its directory should be private)
    /// and waits, in the background, for the runtime to connect.
    ///
    /// # Errors
    /// The bind error.
    pub fn bind(path: &Path) -> std::io::Result<Self> {
        let listener = UnixListener::bind(path)?;
        let (queue, queue_rx) = mpsc::channel(1);
        let (init_tx, init_rx) = oneshot::channel();
        let cancel = CancellationToken::new();
        tokio::spawn(run(listener, init_tx, queue_rx, cancel.clone()));
        Ok(Self {
            path: path.to_owned(),
            queue,
            init_rx: Some(init_rx),
            init_event: None,
            cancel,
        })
    }

    /// The socket path, for the runtime's environment.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Waits until the runtime sends `READY` or `INIT_ERROR`. Cancel-safe. `None` if the
    /// runtime disconnected first.
    pub async fn init_event(&mut self) -> Option<InitEvent> {
        if let Some(ev) = &self.init_event {
            return Some(ev.clone());
        }
        let rx = self.init_rx.as_mut()?;
        let ev = rx.await.ok();
        self.init_rx = None;
        self.init_event.clone_from(&ev);
        ev
    }

    /// Queues an invocation; the receiver yields the runtime's answer, or an error if the
    /// runtime broke the protocol or went away.
    ///
    /// # Errors
    /// As [`crate::RuntimeApi::dispatch`].
    pub fn dispatch(
        &self,
        invocation: Invocation,
    ) -> Result<oneshot::Receiver<InvocationResult>, DispatchError> {
        let (reply, rx) = oneshot::channel();
        match self.queue.try_send(Pending { invocation, reply }) {
            Ok(()) => Ok(rx),
            Err(mpsc::error::TrySendError::Full(_)) => Err(DispatchError::Busy),
            Err(mpsc::error::TrySendError::Closed(_)) => Err(DispatchError::Closed),
        }
    }
}

impl Drop for FramedChannel {
    fn drop(&mut self) {
        self.cancel.cancel();
        let _ = std::fs::remove_file(&self.path);
    }
}

struct Frame {
    kind: u8,
    meta: Bytes,
    payload: Bytes,
}

enum ReadError {
    TooLarge,
    Broken,
}

async fn read_frame(rd: &mut BufReader<OwnedReadHalf>) -> Result<Frame, ReadError> {
    let len = rd.read_u32().await.map_err(|_| ReadError::Broken)? as usize;
    if len < 3 {
        return Err(ReadError::Broken);
    }
    if len > MAX_PAYLOAD_BYTES + usize::from(u16::MAX) + 3 {
        return Err(ReadError::TooLarge);
    }
    let mut buf = vec![0u8; len];
    rd.read_exact(&mut buf)
        .await
        .map_err(|_| ReadError::Broken)?;
    let kind = buf[0];
    let meta_len = usize::from(u16::from_be_bytes([buf[1], buf[2]]));
    if 3 + meta_len > len {
        return Err(ReadError::Broken);
    }
    let mut all = Bytes::from(buf);
    let payload = all.split_off(3 + meta_len);
    let meta = all.split_off(3);
    if payload.len() > MAX_PAYLOAD_BYTES {
        return Err(ReadError::TooLarge);
    }
    Ok(Frame {
        kind,
        meta,
        payload,
    })
}

/// The `INVOKE` frame: the meta object (the `/next` headers) is written straight into the
/// frame, so an invocation costs one buffer instead of a JSON map and its strings.
fn invoke_frame(inv: &Invocation) -> Option<Vec<u8>> {
    let mut frame = Vec::with_capacity(320 + inv.payload.len());
    frame.extend_from_slice(&[0, 0, 0, 0, INVOKE, 0, 0]);
    let deadline = inv.deadline_ms.to_string();
    let fields = [
        (headers::REQUEST_ID, Some(inv.request_id.as_str())),
        (headers::DEADLINE_MS, Some(deadline.as_str())),
        (
            headers::INVOKED_FUNCTION_ARN,
            Some(inv.invoked_function_arn.as_str()),
        ),
        (headers::TRACE_ID, Some(inv.trace_id.as_str())),
        (headers::CLIENT_CONTEXT, inv.client_context.as_deref()),
        (headers::COGNITO_IDENTITY, inv.cognito_identity.as_deref()),
    ];
    let mut first = true;
    frame.push(b'{');
    for (name, value) in fields {
        let Some(value) = value else { continue };
        if !first {
            frame.push(b',');
        }
        first = false;
        serde_json::to_writer(&mut frame, name).ok()?;
        frame.push(b':');
        // Escapes whatever a client put in its context.
        serde_json::to_writer(&mut frame, value).ok()?;
    }
    frame.push(b'}');
    let meta_len = u16::try_from(frame.len() - 7).ok()?;
    frame.extend_from_slice(&inv.payload);
    let len = u32::try_from(frame.len() - 4).ok()?;
    frame[..4].copy_from_slice(&len.to_be_bytes());
    frame[5..7].copy_from_slice(&meta_len.to_be_bytes());
    Some(frame)
}

fn error_type(meta: &Bytes) -> Option<String> {
    (!meta.is_empty()).then(|| String::from_utf8_lossy(meta).into_owned())
}

async fn run(
    listener: UnixListener,
    init_tx: oneshot::Sender<InitEvent>,
    queue_rx: mpsc::Receiver<Pending>,
    cancel: CancellationToken,
) {
    let accepted = tokio::select! {
        () = cancel.cancelled() => return,
        r = listener.accept() => r,
    };
    // One runtime, one connection: stop listening at once.
    drop(listener);
    let Ok((stream, _)) = accepted else { return };
    let (rd, wr) = stream.into_split();
    let mut rd = BufReader::with_capacity(64 * 1024, rd);
    tokio::select! {
        () = cancel.cancelled() => {}
        () = serve(&mut rd, wr, init_tx, queue_rx) => {}
    }
}

async fn serve(
    rd: &mut BufReader<OwnedReadHalf>,
    mut wr: OwnedWriteHalf,
    init_tx: oneshot::Sender<InitEvent>,
    mut queue_rx: mpsc::Receiver<Pending>,
) {
    match read_frame(rd).await {
        Ok(Frame { kind: READY, .. }) => {
            let _ = init_tx.send(InitEvent::Ready);
        }
        Ok(Frame {
            kind: INIT_ERROR,
            meta,
            payload,
        }) => {
            let _ = init_tx.send(InitEvent::Error {
                error_type: error_type(&meta),
                body: payload,
            });
            return;
        }
        _ => return,
    }
    while let Some(Pending { invocation, reply }) = queue_rx.recv().await {
        if reply.is_closed() {
            continue;
        }
        let Some(frame) = invoke_frame(&invocation) else {
            return;
        };
        if wr.write_all(&frame).await.is_err() {
            return;
        }
        let result = match read_frame(rd).await {
            Ok(Frame {
                kind: RESPONSE,
                payload,
                ..
            }) => InvocationResult::Response(payload),
            Ok(Frame {
                kind: ERROR,
                meta,
                payload,
            }) => InvocationResult::Error {
                error_type: error_type(&meta),
                body: payload,
            },
            Err(ReadError::TooLarge) => {
                let _ = reply.send(InvocationResult::ResponseTooLarge);
                return;
            }
            // Out-of-order frame or a closed socket: dropping `reply` tells the invoker.
            Ok(_) | Err(ReadError::Broken) => return,
        };
        let _ = reply.send(result);
    }
}
