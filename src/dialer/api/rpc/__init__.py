"""The CRM-facing Dialer API of dialer-api.txt: /ForwardDialer/Dialer/<Method>."""
