"""Sends and receives one message with the official azure-servicebus SDK over AMQPS (TLS), verifying the server's
certificate against a given CA file, as an application would against a namespace with a private certificate.

Usage: amqps_roundtrip.py --connection-string CS --ca CA.pem --queue NAME [--port PORT]

The connection string is the one `conduit serve` writes to <data-dir>/amqps.connection (no UseDevelopmentEmulator:
the SDK then speaks TLS). Over TLS the SDK drops any port from the endpoint and connects to 5671, so a server on
another port is reached with custom_endpoint_address and TransportType.Amqp (plain AMQP over TLS, not WebSockets). Prints one JSON line:
{"ok": true, "body": ...} or {"ok": false, "error": ...}; exits 0 when the round trip worked.
"""

import argparse
import json
import sys
import uuid

from azure.servicebus import ServiceBusClient, ServiceBusMessage, TransportType


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connection-string", required=True)
    parser.add_argument("--ca", help="PEM file of the CAs to trust (default: the system's)")
    parser.add_argument("--queue", required=True)
    parser.add_argument("--port", type=int, help="the AMQPS port, when not 5671")
    args = parser.parse_args()
    options = {"retry_total": 0}
    if args.ca:
        options["connection_verify"] = args.ca
    if args.port:
        # AMQP over TLS (TransportType.Amqp): with a custom endpoint the SDK would pick WebSockets otherwise.
        options["custom_endpoint_address"] = f"sb://127.0.0.1:{args.port}"
        options["transport_type"] = TransportType.Amqp
    marker = f"over TLS {uuid.uuid4()}"
    try:
        with ServiceBusClient.from_connection_string(args.connection_string, **options) as client:
            with client.get_queue_sender(args.queue) as sender:
                sender.send_messages(ServiceBusMessage(marker))
            with client.get_queue_receiver(args.queue, max_wait_time=10) as receiver:
                for message in receiver.receive_messages(max_message_count=1, max_wait_time=10):
                    body = str(message)
                    receiver.complete_message(message)
                    print(json.dumps({"ok": body == marker, "body": body}))
                    return 0 if body == marker else 1
        print(json.dumps({"ok": False, "error": "no message received within 10 s"}))
        return 1
    except Exception as error:  # the SDK's error says why (a certificate it does not trust, say)
        print(json.dumps({"ok": False, "error": f"{type(error).__name__}: {error}"}))
        return 1


if __name__ == "__main__":
    sys.exit(main())
