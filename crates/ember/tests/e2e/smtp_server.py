"""A real SMTP server for the mail tests: aiosmtpd on a loopback port, offering STARTTLS with the
certificate given and requiring it (and AUTH, checked against the user and password given)
before mail is taken; each message is written whole to `<dir>/<n>.eml`.

Usage: smtp_server.py <dir> <cert.pem> <key.pem> <user> <password>
Prints `ready <port>` once it listens; stops when its standard input closes.
"""

import os
import socket
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class SaveToDirectory:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        final = os.path.join(self.directory, f"{self.count}.eml")
        partial = final + ".part"
        with open(partial, "wb") as out:
            out.write(envelope.original_content or envelope.content)
        # Renamed once whole, so a reader never sees half a message.
        os.replace(partial, final)
        return "250 Message accepted for delivery"


def main():
    directory, cert, key, user, password = sys.argv[1:6]
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and auth_data.password.decode() == password
        return AuthResult(success=ok)

    # aiosmtpd's controller needs a port number; the system picks a free one first.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(
        SaveToDirectory(directory),
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=authenticate,
        auth_require_tls=True,
    )
    controller.start()
    print(f"ready {port}", flush=True)
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
