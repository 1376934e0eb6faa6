package awsemu

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
)

// apiError is an STS error answer.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

// errorResponse is STS's XML error document.
type errorResponse struct {
	XMLName   xml.Name    `xml:"ErrorResponse"`
	Xmlns     string      `xml:"xmlns,attr"`
	Error     errorDetail `xml:"Error"`
	RequestID string      `xml:"RequestId"`
}

type errorDetail struct {
	Type    string `xml:"Type"`
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

// writeError answers err as STS does: Sender faults for 4xx, Receiver faults for 5xx.
func writeError(w http.ResponseWriter, requestID string, err *apiError) {
	kind := "Sender"
	if err.status >= 500 {
		kind = "Receiver"
	}
	writeXML(w, err.status, requestID, &errorResponse{
		Xmlns:     Namespace,
		Error:     errorDetail{Type: kind, Code: err.code, Message: err.message},
		RequestID: requestID,
	})
}

// response is a success document whose ResponseMetadata carries the request id.
type response interface {
	setRequestID(id string)
}

func writeXML(w http.ResponseWriter, status int, requestID string, body any) {
	if r, ok := body.(response); ok {
		r.setRequestID(requestID)
	}
	data, err := xml.Marshal(body)
	if err != nil {
		http.Error(w, "cannot encode response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-Requestid", requestID)
	w.Header().Set("Content-Length", strconv.Itoa(len(xml.Header)+len(data)))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(data)
}

// responseMetadata is common to every success document.
type responseMetadata struct {
	RequestID string `xml:"RequestId"`
}

// credentialsXML are the temporary credentials of a session.
type credentialsXML struct {
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string `xml:"SecretAccessKey"`
	SessionToken    string `xml:"SessionToken"`
	Expiration      string `xml:"Expiration"`
}

// assumedRoleUser names the session.
type assumedRoleUser struct {
	Arn           string `xml:"Arn"`
	AssumedRoleID string `xml:"AssumedRoleId"`
}

// webIdentityResponse is AssumeRoleWithWebIdentity's success document.
type webIdentityResponse struct {
	XMLName  xml.Name          `xml:"AssumeRoleWithWebIdentityResponse"`
	Xmlns    string            `xml:"xmlns,attr"`
	Result   webIdentityResult `xml:"AssumeRoleWithWebIdentityResult"`
	Metadata responseMetadata  `xml:"ResponseMetadata"`
}

type webIdentityResult struct {
	Credentials                 credentialsXML  `xml:"Credentials"`
	SubjectFromWebIdentityToken string          `xml:"SubjectFromWebIdentityToken"`
	AssumedRoleUser             assumedRoleUser `xml:"AssumedRoleUser"`
	Provider                    string          `xml:"Provider"`
	Audience                    string          `xml:"Audience"`
	SourceIdentity              string          `xml:"SourceIdentity,omitempty"`
}

func (r *webIdentityResponse) setRequestID(id string) { r.Metadata.RequestID = id }

// assumeRoleResponse is AssumeRole's success document.
type assumeRoleResponse struct {
	XMLName  xml.Name         `xml:"AssumeRoleResponse"`
	Xmlns    string           `xml:"xmlns,attr"`
	Result   assumeRoleResult `xml:"AssumeRoleResult"`
	Metadata responseMetadata `xml:"ResponseMetadata"`
}

type assumeRoleResult struct {
	Credentials     credentialsXML  `xml:"Credentials"`
	AssumedRoleUser assumedRoleUser `xml:"AssumedRoleUser"`
	SourceIdentity  string          `xml:"SourceIdentity,omitempty"`
}

func (r *assumeRoleResponse) setRequestID(id string) { r.Metadata.RequestID = id }

// callerIdentityResponse is GetCallerIdentity's success document.
type callerIdentityResponse struct {
	XMLName  xml.Name             `xml:"GetCallerIdentityResponse"`
	Xmlns    string               `xml:"xmlns,attr"`
	Result   callerIdentityResult `xml:"GetCallerIdentityResult"`
	Metadata responseMetadata     `xml:"ResponseMetadata"`
}

type callerIdentityResult struct {
	Arn     string `xml:"Arn"`
	UserID  string `xml:"UserId"`
	Account string `xml:"Account"`
}

func (r *callerIdentityResponse) setRequestID(id string) { r.Metadata.RequestID = id }

const (
	upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	base64Set  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)

// randomString draws n characters from alphabet (len(alphabet) <= 256) with crypto/rand.
func randomString(alphabet string, n int) string {
	out := make([]byte, n)
	buf := make([]byte, 1)
	limit := 256 - 256%len(alphabet) // reject to avoid modulo bias
	for i := 0; i < n; {
		_, _ = rand.Read(buf)
		if int(buf[0]) >= limit {
			continue
		}
		out[i] = alphabet[int(buf[0])%len(alphabet)]
		i++
	}
	return string(out)
}

// newCredentials mints fake temporary credentials expiring at exp.
func newCredentials(exp string) credentialsXML {
	token := make([]byte, 240)
	_, _ = rand.Read(token)
	return credentialsXML{
		AccessKeyID:     "ASIA" + randomString(upperAlnum, 16),
		SecretAccessKey: randomString(base64Set, 40),
		SessionToken:    "FwoGZXIvYXdzE" + base64.StdEncoding.EncodeToString(token),
		Expiration:      exp,
	}
}

// newRequestID returns a random UUID, the shape of STS request ids.
func newRequestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// roleID is a role's stable unique id (AROA + 17 characters), derived from its ARN.
func roleID(arn string) string {
	sum := sha256.Sum256([]byte(arn))
	out := make([]byte, 17)
	for i := range out {
		out[i] = upperAlnum[int(sum[i])%len(upperAlnum)]
	}
	return "AROA" + string(out)
}
