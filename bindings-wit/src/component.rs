//! The exports of world `core`, one module per WIT interface.

mod convert;
mod job;
mod naming;
mod polling;
mod verify;

wit_bindgen::generate!({
    world: "core",
    path: "../wit",
});

use exports::cmf::mesbackup::types::{Error, ErrorKind, Guest as TypesGuest};

/// The component: one type implementing every exported interface.
pub struct Component;

impl TypesGuest for Component {
    fn kind_code(kind: ErrorKind) -> String {
        convert::kind_from_wit(kind).code().to_owned()
    }

    fn tool_version() -> String {
        mesbackup_core::mes::tool_id()
    }
}

/// The WIT form of a core error.
fn error(e: mesbackup_core::Error) -> Error {
    Error { kind: convert::kind_to_wit(e.kind), message: e.message, guid: e.guid }
}

export!(Component);
