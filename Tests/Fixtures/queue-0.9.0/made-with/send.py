import smtplib, sys
port = int(sys.argv[1])
def send(frm, to, subject, body, mail_opts=(), rcpt_opts=()):
    msg = f"From: {frm}\r\nTo: {', '.join(to)}\r\nSubject: {subject}\r\nMessage-ID: <{subject.replace(' ','-')}@example.test>\r\nDate: Mon, 07 Dec 2026 08:00:00 +0000\r\n\r\n{body}\r\n"
    s = smtplib.SMTP('127.0.0.1', port)
    s.ehlo('client.example.test')
    r = s.sendmail(frm, to, msg.encode(), mail_options=list(mail_opts), rcpt_options=list(rcpt_opts))
    print(subject, r)
    s.quit()
send('alice@example.test', ['bob@partner.example', 'carol@partner.example'], 'everything routes', 'hello')
send('alice@example.test', ['dave@partner.example'], 'card held', 'card 4111 1111 1111 1111 here')
send('alice@example.test', ['erin@later.test'], 'direct later', 'see you', mail_opts=['RET=HDRS', 'ENVID=env-42'], rcpt_opts=['NOTIFY=FAILURE,DELAY', 'ORCPT=rfc822;erin@later.test'])
send('alice@example.test', ['frank@bounce.test', 'gina@partner.example'], 'mixed bounce', 'hi both')
