// Package sim is the simulated Provider: instead of asking WhatsApp to send a verification
// code, it renders the message a person would have received, in the requested language, and
// captures it in an Outbox. Handler serves the captured messages as JSON so that tests and
// people can read the code that camsd "sent".
package sim
