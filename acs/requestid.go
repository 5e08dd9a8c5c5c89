package acs

import "crypto/rand"

// NewRequestID returns a random (version 4) UUID in upper case, the form of Alibaba Cloud
// request ids, e.g. "8F1A3B2C-4D5E-4F60-8172-93A4B5C6D7E8".
func NewRequestID() string {
	var u [16]byte
	rand.Read(u[:]) // never fails (crypto/rand)
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	var s [36]byte
	j := 0
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			s[j] = '-'
			j++
		}
		s[j] = upperHex[c>>4]
		s[j+1] = upperHex[c&15]
		j += 2
	}
	return string(s[:])
}
