// Package store reads and writes dqaudit's files wherever they are: local
// paths, or objects named by URL (s3://bucket/key, gs://bucket/key,
// azblob://container/key) through gocloud.dev/blob.
//
// A URL's query string configures its bucket (gocloud's parameters, such as
// ?endpoint=http://minio:9000&use_path_style=true&region=eu-west-1); it is
// kept with every path derived from the URL, so that each can be opened on
// its own. Credentials come from the provider's usual environment and
// config files, never from the URL. Because ? starts the query, it is not a
// wildcard in an object-storage pattern; * ** [...] and {a,b} are.
//
// Local paths behave as before object storage existed: inputs are opened
// read-only, writes go through a temporary file renamed into place.
package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"cloud.google.com/go/storage"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	azblobblob "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/bmatcuk/doublestar/v4"
	"github.com/google/renameio/v2"
	"gocloud.dev/blob"
	_ "gocloud.dev/blob/azureblob" // azblob://
	_ "gocloud.dev/blob/gcsblob"   // gs://
	_ "gocloud.dev/blob/s3blob"    // s3://
	"gocloud.dev/gcerrors"
	"google.golang.org/api/googleapi"
)

// schemes are the URL schemes that name object storage.
var schemes = []string{"s3", "gs", "azblob"}

// File is one file a pattern matched.
type File struct {
	Path string
	Size int64
	Err  error // matched, but its size could not be read, or not a file to read
	// ID identifies a local file whatever path reaches it (device and
	// inode), so that a link and its target are read once; nil when
	// unknown.
	ID any
}

// IsRemote reports whether p names object storage rather than a local path.
func IsRemote(p string) bool {
	scheme, _, ok := strings.Cut(p, "://")
	return ok && slices.Contains(schemes, scheme)
}

// Name returns p without a URL's query, for looking at its extension.
func Name(p string) string {
	if !IsRemote(p) {
		return p
	}
	name, _, _ := strings.Cut(p, "?")
	return name
}

// Resolve makes p absolute against the local directory base; URLs and
// absolute paths are returned as they are.
func Resolve(base, p string) string {
	if IsRemote(p) || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(base, p)
}

// ResolvePattern is Resolve for a glob pattern: the characters of base
// that a pattern reads as wildcards ("team[ml]") are escaped, so that
// base is taken as it is written.
func ResolvePattern(base, pattern string) string {
	if IsRemote(pattern) || filepath.IsAbs(pattern) || filepath.Separator != '/' {
		return Resolve(base, pattern)
	}
	var b strings.Builder
	for _, c := range base {
		if strings.ContainsRune(`*?[]{}\`, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return filepath.Join(b.String(), pattern)
}

// Join appends name to the directory dir, which may be a URL.
func Join(dir, name string) string {
	if !IsRemote(dir) {
		return filepath.Join(dir, name)
	}
	u := parse(dir)
	u.key = path.Join(u.key, name)
	return u.String()
}

// ValidPattern reports whether pattern is a well-formed glob: a local path
// pattern, or an object key pattern after a URL's bucket.
func ValidPattern(pattern string) bool {
	if !IsRemote(pattern) {
		return doublestar.ValidatePathPattern(pattern)
	}
	return doublestar.ValidatePattern(parse(pattern).key)
}

// Open opens p for reading and returns its size. Cancelling ctx makes a
// pending read return: a local file is closed, an object's download is
// aborted.
func Open(ctx context.Context, p string) (io.ReadCloser, int64, error) {
	if !IsRemote(p) {
		f, err := openLocal(ctx, p)
		if err != nil {
			return nil, 0, err
		}
		var size int64
		if st, err := f.Stat(); err == nil {
			size = st.Size()
		}
		stop := context.AfterFunc(ctx, func() { f.Close() })
		return &localFile{File: f, stop: stop}, size, nil
	}
	u := parse(p)
	b, err := u.bucket(ctx)
	if err != nil {
		return nil, 0, err
	}
	r, err := b.NewReader(ctx, u.key, nil)
	if err != nil {
		err = u.wrapRead(ctx, b, err)
		b.Close()
		return nil, 0, err
	}
	return &object{Reader: r, bucket: b}, r.Size(), nil
}

// openLocal opens p read-only: inputs are never written. Opening a named
// pipe waits for its writer, so that wait gives way to ctx.
func openLocal(ctx context.Context, p string) (*os.File, error) {
	if !IsNamedPipe(p) {
		return os.Open(p)
	}
	type opened struct {
		f   *os.File
		err error
	}
	done := make(chan opened, 1)
	go func() {
		f, err := os.Open(p)
		done <- opened{f, err}
	}()
	select {
	case o := <-done:
		return o.f, o.err
	case <-ctx.Done():
		go func() { // the open may still succeed: close what it gives
			if o := <-done; o.f != nil {
				o.f.Close()
			}
		}()
		return nil, ctx.Err()
	}
}

// localGlob is doublestar.FilepathGlob over files only, failing on a
// directory that cannot be listed, but for links that loop (see loopFS).
func localGlob(pattern string) ([]string, error) {
	opts := []doublestar.GlobOption{doublestar.WithFilesOnly(), doublestar.WithFailOnIOErrors()}
	pattern = filepath.ToSlash(filepath.Clean(pattern))
	base, rest := doublestar.SplitPattern(pattern)
	if rest == "" || rest == "." || rest == ".." {
		return doublestar.FilepathGlob(pattern, opts...) // no wildcard
	}
	matches, err := doublestar.Glob(loopFS{os.DirFS(base)}, rest, opts...)
	for i := range matches {
		matches[i] = filepath.FromSlash(path.Join(base, matches[i]))
	}
	return matches, err
}

// loopFS is a directory's file system on which links cannot make a
// listing fail or go round. A link that loops by itself looks missing:
// doublestar then lists it as a file, which Glob finds bad, and the other
// files are read. A link to a directory above it looks missing too, so
// that ** does not go round: what it leads to is being listed already.
// Only directories reached through a link are compared with their
// parents; doublestar stats no other.
type loopFS struct{ fs.FS }

func (l loopFS) Stat(name string) (fs.FileInfo, error) {
	info, err := fs.Stat(l.FS, name)
	missing := &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
	switch {
	case errors.Is(err, syscall.ELOOP):
		return nil, missing
	case err == nil && info.IsDir() && name != ".":
		if id := fileID(info); id != nil {
			for dir := path.Dir(name); ; dir = path.Dir(dir) {
				if up, err := fs.Stat(l.FS, dir); err == nil && fileID(up) == id {
					return nil, missing
				}
				if dir == "." || dir == "/" {
					break
				}
			}
		}
	}
	return info, err
}

func (l loopFS) ReadDir(name string) ([]fs.DirEntry, error) { return fs.ReadDir(l.FS, name) }

// IsNamedPipe reports whether p is a local named pipe, which can be read
// only once.
func IsNamedPipe(p string) bool {
	if IsRemote(p) {
		return false
	}
	st, err := os.Stat(p)
	return err == nil && st.Mode()&fs.ModeNamedPipe != 0
}

type localFile struct {
	*os.File
	stop func() bool
}

func (f *localFile) Close() error { f.stop(); return f.File.Close() }

// RegularFile returns the open file under r, a reader Open returned, when
// it is a local regular file, so that another process can be handed the
// file itself; ok is false for objects, pipes and other special files.
func RegularFile(r io.Reader) (f *os.File, ok bool) {
	lf, ok := r.(*localFile)
	if !ok {
		return nil, false
	}
	st, err := lf.File.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return nil, false
	}
	return lf.File, true
}

type object struct {
	*blob.Reader
	bucket *blob.Bucket
}

func (o *object) Close() error {
	return errors.Join(o.Reader.Close(), o.bucket.Close())
}

// ReadFile reads the whole of p, a small file such as a history entry.
func ReadFile(ctx context.Context, p string) ([]byte, error) {
	content, _, err := ReadVersioned(ctx, p)
	return content, err
}

// Glob returns the files that pattern matches (doublestar syntax), sorted
// by path. Listing a local directory that cannot be read is an error, as
// is a failed bucket listing. An object-storage pattern lists the bucket
// from the pattern's literal prefix.
func Glob(ctx context.Context, pattern string) ([]File, error) {
	if !IsRemote(pattern) {
		matches, err := localGlob(pattern)
		if err != nil {
			return nil, err
		}
		files := make([]File, 0, len(matches))
		for _, m := range matches {
			st, err := os.Stat(m)
			switch {
			case err != nil: // a dangling or looping link
				files = append(files, File{Path: m, Err: err})
			case st.IsDir(): // a link to a directory is no file to read
			case !st.Mode().IsRegular() && st.Mode()&fs.ModeNamedPipe == 0:
				files = append(files, File{Path: m, Err: fmt.Errorf("not a regular file (%s)", st.Mode().Type())})
			default:
				files = append(files, File{Path: m, Size: st.Size(), ID: fileID(st)})
			}
		}
		return files, nil
	}
	u := parse(pattern)
	if !doublestar.ValidatePattern(u.key) {
		return nil, fmt.Errorf("%s: bad pattern", pattern)
	}
	prefix := u.key[:literalPrefix(u.key)]
	b, err := u.bucket(ctx)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	var files []File
	it := b.List(&blob.ListOptions{Prefix: prefix})
	for {
		obj, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, u.wrapBucketOp(err)
		}
		if obj.IsDir || strings.HasSuffix(obj.Key, "/") {
			continue
		}
		if ok, _ := doublestar.Match(u.key, obj.Key); ok {
			files = append(files, File{Path: u.with(obj.Key).String(), Size: obj.Size})
		}
	}
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return files, nil
}

// literalPrefix is the length of the part of a pattern before its first
// special character.
func literalPrefix(pattern string) int {
	if i := strings.IndexAny(pattern, `*?[{\`); i >= 0 {
		return i
	}
	return len(pattern)
}

// List returns the names of the files directly in dir, sorted; a directory
// or prefix that does not exist has none.
func List(ctx context.Context, dir string) ([]string, error) {
	var names []string
	if !IsRemote(dir) {
		ents, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			if !e.IsDir() {
				names = append(names, e.Name())
			}
		}
		return names, nil
	}
	u := parse(dir)
	prefix := strings.TrimSuffix(u.key, "/") + "/"
	if u.key == "" {
		prefix = ""
	}
	b, err := u.bucket(ctx)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	it := b.List(&blob.ListOptions{Prefix: prefix, Delimiter: "/"})
	for {
		obj, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, u.wrapBucketOp(err)
		}
		if !obj.IsDir {
			names = append(names, strings.TrimPrefix(obj.Key, prefix))
		}
	}
	slices.Sort(names)
	return names, nil
}

// WriteAtomic writes p with write, so that readers see the old content or
// the whole new one, never a part. A local file is written to a temporary
// file beside it and renamed into place (its directory is created); an
// object is uploaded, which replaces it in one step, and the upload is
// abandoned when write fails.
func WriteAtomic(ctx context.Context, p string, write func(io.Writer) error) error {
	if !IsRemote(p) {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		// The temporary file goes beside p, never to $TMPDIR: a killed run
		// leaves it where the next run's RemoveStaleTemps looks.
		pf, err := renameio.NewPendingFile(p, renameio.WithPermissions(0o644), renameio.WithTempDir(filepath.Dir(p)))
		if err != nil {
			return err
		}
		defer pf.Cleanup()
		bw := bufio.NewWriterSize(pf, 64<<10)
		if err := write(bw); err != nil {
			return err
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		return pf.CloseAtomicallyReplace()
	}
	u := parse(p)
	b, err := u.bucket(ctx)
	if err != nil {
		return err
	}
	defer b.Close()
	// Cancelling the writer's context before Close abandons the upload.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := b.NewWriter(wctx, u.key, nil)
	if err != nil {
		return u.wrapBucketOp(err)
	}
	if err := write(w); err != nil {
		cancel()
		w.Close()
		return err
	}
	return u.wrapBucketOp(w.Close())
}

// CreateNew writes content to p unless p exists, in one step that two
// writers cannot both win, and reports whether it wrote. A local file is
// created with O_EXCL; an object is uploaded with a conditional write
// (If-None-Match: * on S3 and Azure, a does-not-exist precondition on
// GCS). A store that ignores the condition overwrites p and reports true.
func CreateNew(ctx context.Context, p string, content []byte) (bool, error) {
	if !IsRemote(p) {
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		_, err = f.Write(content)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(p)
			return false, err
		}
		return true, nil
	}
	u := parse(p)
	b, err := u.bucket(ctx)
	if err != nil {
		return false, err
	}
	defer b.Close()
	err = b.WriteAll(ctx, u.key, content, &blob.WriterOptions{IfNotExist: true, ContentType: "application/json"})
	if conditionFailed(err) {
		return false, nil
	}
	return err == nil, u.wrapBucketOp(err)
}

// conditionFailed reports whether err is a conditional write's refusal.
// S3 answers 412 when the condition does not hold, and 409 when another
// conditional write of the object is in flight: either way this one lost.
func conditionFailed(err error) bool {
	var api interface{ ErrorCode() string }
	return gcerrors.Code(err) == gcerrors.FailedPrecondition || errors.As(err, &api) && api.ErrorCode() == "ConditionalRequestConflict"
}

// ReadVersioned reads the whole of p, as ReadFile does, and returns with
// it the version of the object it read, for ReplaceIf: its ETag on S3 and
// Azure, its generation on GCS, taken from the same response as the
// content. The version is "" for a local file and when the store's
// answer carries none.
func ReadVersioned(ctx context.Context, p string) (content []byte, version string, err error) {
	if !IsRemote(p) {
		content, err = os.ReadFile(p)
		return content, "", err
	}
	r, _, err := Open(ctx, p)
	if err != nil {
		return nil, "", err
	}
	defer r.Close()
	if content, err = io.ReadAll(r); err != nil {
		return nil, "", parse(p).wrap(err)
	}
	return content, readVersion(r.(*object).Reader), nil
}

// readVersion digs the version out of a reader's driver response; gocloud
// has no portable accessor for it.
func readVersion(r *blob.Reader) string {
	var s3out s3.GetObjectOutput
	var gcs *storage.Reader
	var az azblobblob.DownloadStreamResponse
	switch {
	case r.As(&s3out):
		return aws.ToString(s3out.ETag)
	case r.As(&gcs):
		// The client reports -1 when the response has no X-Goog-Generation.
		if gcs.Attrs.Generation > 0 {
			return strconv.FormatInt(gcs.Attrs.Generation, 10)
		}
	case r.As(&az):
		if az.ETag != nil {
			return string(*az.ETag)
		}
	}
	return ""
}

// ReplaceIf replaces the object p with content if it is still at version,
// as ReadVersioned returned it, in one step that no other write can come
// between (If-Match on S3 and Azure, a generation-match precondition on
// GCS), and reports whether it replaced it: false, without an error, when
// p has changed or is gone. Two writers that replace the same version
// cannot both win. A store that ignores the condition replaces p and
// reports true; IgnoresReplaceIf finds such a store out. Local files and
// objects without a version cannot be replaced this way.
func ReplaceIf(ctx context.Context, p string, content []byte, version string) (bool, error) {
	if !IsRemote(p) || version == "" {
		return false, fmt.Errorf("%s: no version to replace it against", Name(p))
	}
	return conditional(ctx, p, func(b *blob.Bucket, key string) error {
		return b.WriteAll(ctx, key, content, &blob.WriterOptions{ContentType: "application/json", BeforeWrite: onVersion(version, false)})
	})
}

// conditional runs op, a write or delete on p's key made on a condition,
// and reports whether it was done: false, with no error, when the
// condition did not hold.
func conditional(ctx context.Context, p string, op func(b *blob.Bucket, key string) error) (bool, error) {
	u := parse(p)
	b, err := u.bucket(ctx)
	if err != nil {
		return false, err
	}
	defer b.Close()
	err = op(b, u.key)
	// S3 answers an If-Match on a missing object with 404, GCS and Azure
	// with 412.
	if conditionFailed(err) || gcerrors.Code(err) == gcerrors.NotFound {
		return false, nil
	}
	return err == nil, u.wrap(err)
}

// IgnoresReplaceIf replaces p with content against a version that no
// object has, and reports whether the store replaced it all the same: it
// ignores ReplaceIf's condition. content should be what p holds, so that
// such a store loses nothing.
func IgnoresReplaceIf(ctx context.Context, p string, content []byte) (bool, error) {
	var none string
	switch parse(p).scheme {
	case "gs":
		// Generations are timestamps in microseconds.
		none = strconv.FormatInt(math.MaxInt64, 10)
	case "azblob":
		none = `"0x0"`
	default:
		// Shaped like an MD5 ETag, so that no store rejects it as malformed.
		none = `"00000000000000000000000000000000"`
	}
	return ReplaceIf(ctx, p, content, none)
}

// ConditionRefused reports whether err is a store's refusal to make a
// write conditional at all (501 Not Implemented, as some S3 clones answer
// If-Match), as opposed to a failed condition or a passing failure such as
// a timeout, after which the write may still have landed.
func ConditionRefused(err error) bool {
	var status interface{ HTTPStatusCode() int } // AWS SDK
	var api interface{ ErrorCode() string }
	var az *azcore.ResponseError
	var gcs *googleapi.Error
	switch {
	case err == nil:
		return false
	case errors.As(err, &api) && api.ErrorCode() == "NotImplemented":
		return true
	case errors.As(err, &status):
		return status.HTTPStatusCode() == http.StatusNotImplemented
	case errors.As(err, &az):
		return az.StatusCode == http.StatusNotImplemented
	case errors.As(err, &gcs):
		return gcs.Code == http.StatusNotImplemented
	}
	return false
}

// onVersion makes a write, or with del a delete, conditional on the
// object's version through the driver's own request, which gocloud's
// portable options cannot: they have If-None-Match: * (IfNotExist) but no
// If-Match. A driver offers the request type of the operation only.
func onVersion(version string, del bool) func(as func(any) bool) error {
	return func(as func(any) bool) error {
		var s3put *transfermanager.UploadObjectInput
		var s3del *s3.DeleteObjectInput
		var gcs **storage.ObjectHandle
		var azPut *azblob.UploadStreamOptions
		var azDel *azblobblob.DeleteOptions
		etag := azcore.ETag(version)
		azIf := &azblob.AccessConditions{ModifiedAccessConditions: &azblobblob.ModifiedAccessConditions{IfMatch: &etag}}
		switch {
		case as(&s3put):
			s3put.IfMatch = aws.String(version)
		case as(&s3del):
			s3del.IfMatch = aws.String(version)
		case as(&gcs):
			gen, err := strconv.ParseInt(version, 10, 64)
			if err != nil || gen <= 0 {
				return fmt.Errorf("not a GCS generation: %q", version)
			}
			if del {
				// Naming the generation as well makes a delete miss a
				// later one where the precondition is not kept
				// (fake-gcs-server ignores it on deletes).
				*gcs = (*gcs).Generation(gen)
			}
			*gcs = (*gcs).If(storage.Conditions{GenerationMatch: gen})
		case as(&azPut):
			azPut.AccessConditions = azIf
		case as(&azDel):
			azDel.AccessConditions = azIf
		default:
			return errors.New("the store's driver cannot make a request conditional on a version")
		}
		return nil
	}
}

// RemoveIf deletes the object p if it is still at version, as
// ReadVersioned returned it (If-Match on S3 and Azure, a generation-match
// precondition on GCS), and reports whether it deleted it: false, without
// an error, when p has changed or is gone. A store that refuses the
// condition returns an error for which ConditionRefused is true; one that
// ignores it deletes p whatever its version.
func RemoveIf(ctx context.Context, p, version string) (bool, error) {
	if !IsRemote(p) || version == "" {
		return false, fmt.Errorf("%s: no version to remove it at", Name(p))
	}
	return conditional(ctx, p, func(b *blob.Bucket, key string) error {
		return b.DeleteWithOptions(ctx, key, &blob.DeleteOptions{BeforeDelete: onVersion(version, true)})
	})
}

// Remove deletes p; a p that does not exist is not an error.
func Remove(ctx context.Context, p string) error {
	if !IsRemote(p) {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	u := parse(p)
	b, err := u.bucket(ctx)
	if err != nil {
		return err
	}
	defer b.Close()
	if err := b.Delete(ctx, u.key); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
		return u.wrap(err)
	}
	return nil
}

// location is an object-storage URL taken apart: scheme://bucket/key?query.
type location struct {
	scheme, bucketName, key, query string
}

// parse splits a URL by hand rather than with net/url, which would
// reinterpret the pattern characters of a key.
func parse(p string) location {
	var l location
	l.scheme, p, _ = strings.Cut(p, "://")
	p, l.query, _ = strings.Cut(p, "?")
	l.bucketName, l.key, _ = strings.Cut(p, "/")
	return l
}

func (l location) with(key string) location { l.key = key; return l }

func (l location) String() string {
	s := l.scheme + "://" + l.bucketName + "/" + l.key
	if l.query != "" {
		s += "?" + l.query
	}
	return s
}

func (l location) bucketURL() string {
	s := l.scheme + "://" + l.bucketName
	if l.query != "" {
		s += "?" + l.query
	}
	return s
}

// CheckURL returns an error when p is an object-storage URL that names no
// bucket (s3:///key, s3://, gs://?query), which no store can open; local
// paths and URLs with a bucket pass. It sends no request, so that such a
// URL can be refused before anything is read.
func CheckURL(p string) error {
	if !IsRemote(p) {
		return nil
	}
	return parse(p).check(Name(p))
}

// check is CheckURL of l, which was written as name.
func (l location) check(name string) error {
	if l.bucketName == "" {
		return fmt.Errorf("%s: no %s in URL; write %s://%s/...", name, l.bucketWord(), l.scheme, strings.ToUpper(l.bucketWord()))
	}
	return nil
}

// bucketWord is what the store calls a bucket.
func (l location) bucketWord() string {
	if l.scheme == "azblob" {
		return "container"
	}
	return "bucket"
}

func (l location) bucket(ctx context.Context) (*blob.Bucket, error) {
	if err := l.check(l.name()); err != nil {
		return nil, err
	}
	b, err := blob.OpenBucket(ctx, l.bucketURL())
	if err != nil {
		return nil, fmt.Errorf("open bucket %s://%s: %w", l.scheme, l.bucketName, err)
	}
	return b, nil
}

// name is l without its query, for messages.
func (l location) name() string { return l.scheme + "://" + l.bucketName + "/" + l.key }

// wrap names the object in err, and keeps "not found" recognisable as
// fs.ErrNotExist, unless the store said that the bucket itself does not
// exist: then the error says so, and is not fs.ErrNotExist, so that no
// caller takes a wrong bucket name for an object that is merely absent.
func (l location) wrap(err error) error {
	switch {
	case err == nil:
		return nil
	case bucketMissing(err):
		return &missingBucketError{l, err}
	case gcerrors.Code(err) == gcerrors.NotFound:
		return &fs.PathError{Op: "open", Path: l.name(), Err: fs.ErrNotExist}
	}
	return fmt.Errorf("%s: %w", l.name(), err)
}

// wrapBucketOp is wrap for a listing or a write, which no missing object
// can make fail: "not found" there means the bucket is missing, whatever
// the store's error says (GCS answers a write to a missing bucket with a
// bare 404).
func (l location) wrapBucketOp(err error) error {
	if gcerrors.Code(err) == gcerrors.NotFound {
		return &missingBucketError{l, err}
	}
	return l.wrap(err)
}

// wrapRead is wrap for a read of an object of b. GCS answers the read of
// an object in a missing bucket as it answers a missing object, so a
// "not found" from it costs one more request, asking for the bucket.
func (l location) wrapRead(ctx context.Context, b *blob.Bucket, err error) error {
	err = l.wrap(err)
	var gcs *storage.Client
	if errors.Is(err, fs.ErrNotExist) && b.As(&gcs) {
		if _, aerr := gcs.Bucket(l.bucketName).Attrs(ctx); errors.Is(aerr, storage.ErrBucketNotExist) {
			return &missingBucketError{l, aerr}
		}
	}
	return err
}

// bucketMissing reports whether a store's error says that the bucket (an
// Azure container) does not exist, as opposed to an object in it.
func bucketMissing(err error) bool {
	var api interface{ ErrorCode() string } // AWS SDK
	var az *azcore.ResponseError
	switch {
	case errors.Is(err, storage.ErrBucketNotExist):
		return true
	case errors.As(err, &az):
		return az.ErrorCode == "ContainerNotFound"
	case errors.As(err, &api):
		return api.ErrorCode() == "NoSuchBucket"
	}
	return false
}

// missingBucketError is the error of a request to a bucket that does not
// exist: its name in the URL is likely wrong, or it was never created.
type missingBucketError struct {
	at    location
	cause error // the store's own error
}

func (e *missingBucketError) Error() string {
	return fmt.Sprintf("%s: the %s %s://%s does not exist", e.at.name(), e.at.bucketWord(), e.at.scheme, e.at.bucketName)
}

func (e *missingBucketError) Unwrap() error { return e.cause }
