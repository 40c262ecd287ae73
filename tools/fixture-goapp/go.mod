// A tiny program built against an old golang.org/x/text on purpose: the
// end-to-end test expects Trivy to find it in the binary's build info and
// report the fixture advisory CVE-2099-3001 (x/text < 0.3.8).
module image-scanning/tools/fixture-goapp

go 1.24

require golang.org/x/text v0.3.7
