//! An HTTP component that imports an interface no host provides
//! (`acme:missing/greeter@1.0.0`): uploads of it must be refused by name.

use std::io::Write as _;
use wasi::http::types::{Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam};

wit_bindgen::generate!({
    inline: "
        package acme:missing@1.0.0;
        interface greeter { greet: func() -> string; }
        world needs { import greeter; }
    ",
});

struct NeedsMissing;

impl wasi::exports::http::incoming_handler::Guest for NeedsMissing {
    fn handle(_request: IncomingRequest, out: ResponseOutparam) {
        let response = OutgoingResponse::new(Fields::new());
        let body = response.body().unwrap();
        ResponseOutparam::set(out, Ok(response));
        let mut stream = body.write().unwrap();
        stream.write_all(acme::missing::greeter::greet().as_bytes()).unwrap();
        drop(stream);
        OutgoingBody::finish(body, None).unwrap();
    }
}

wasi::http::proxy::export!(NeedsMissing);
