// Package sim is the simulated Provider: instead of asking WhatsApp to send a verification
// code, it renders the message a person would have received, in the requested language, and
// captures it in an Outbox. Handler serves the captured messages so that tests and people can
// read the code that camsd "sent": as JSON, and on a page in the style of a mail catcher
// (Mailpit) where, with LiveHandler and a Hub, new messages appear as they are sent.
package sim
