#!/usr/bin/env bats
# tk-media: records of media made at test time by Debian tools (a PNG and
# a JPEG with EXIF from ImageMagick and exiftool, a WAV from sox, an Ogg
# and an MP4 from ffmpeg), checked against their schema and against what
# sha256sum and stat say; every error path (missing, unreadable,
# truncated, empty, a FIFO that must not hang, a dangling link, a name
# that is not UTF-8) gives its record and its status.

load helper

setup() {
	home
	command -v convert >/dev/null && command -v exiftool >/dev/null &&
	    command -v sox >/dev/null && command -v ffmpeg >/dev/null ||
	    skip "imagemagick, exiftool, sox or ffmpeg missing (make deps)"
}

# field FILE JQ: JQ of FILE's record.
field() {
	tk-media "$1" | jq -c "$2"
}

@test "a PNG: its type, size, hash and dimensions, a valid record" {
	convert -size 64x48 xc:red red.png
	run --separate-stderr tk-media red.png
	assert_success
	assert_equal "$stderr" ""
	echo "$output" | valid
	assert_equal "$(jq -c '[.type, .path, .mime_type, .encoding, .width, .height, .exif, .streams]' <<<"$output")" \
	    '["media","red.png","image/png","binary",64,48,null,null]'
	assert_equal "$(jq -r .sha256 <<<"$output")" "$(sha256sum red.png | cut -d' ' -f1)"
	assert_equal "$(jq -r .size <<<"$output")" "$(stat -c %s red.png)"
}

@test "a JPEG: the EXIF date taken and orientation" {
	convert -size 40x30 xc:blue photo.jpg
	exiftool -q -overwrite_original '-DateTimeOriginal=2024:05:06 07:08:09' -Orientation=6 -n photo.jpg
	run field photo.jpg '[.mime_type, .width, .height, .exif]'
	assert_success
	assert_output '["image/jpeg",40,30,{"date_taken":"2024-05-06T07:08:09","orientation":6}]'
	tk-media photo.jpg | valid
	convert -size 8x8 xc:blue plain.jpg
	assert_equal "$(field plain.jpg '[.width, .exif]')" '[8,null]'
}

@test "a WAV and an Ogg: duration, format, codec, sample rate, channels" {
	sox -n -r 8000 -b 16 -c 2 tone.wav synth 1.5 sine 440
	ffmpeg -loglevel error -i tone.wav -c:a libvorbis tone.ogg
	run tk-media tone.wav tone.ogg
	assert_success
	echo "$output" | valid
	assert_equal "$(jq -c '[.mime_type, .format, .duration_ms, .width]' <<<"$output")" \
	    "$(printf '%s\n' '["audio/x-wav","wav",1500,null]' '["audio/ogg","ogg",1500,null]')"
	assert_equal "$(jq -sc '.[0].streams[0].bit_rate' <<<"$output")" 256000
	assert_equal "$(jq -c '.streams | map([.kind, .codec, .sample_rate, .channels])' <<<"$output")" \
	    "$(printf '%s\n' '[["audio","pcm_s16le",8000,2]]' '[["audio","vorbis",8000,2]]')"
	assert [ "$(jq -s '.[1].bit_rate' <<<"$output")" -gt 10000 ]
}

@test "an MP4 video: resolution, frame rate, codec, duration" {
	ffmpeg -loglevel error -f lavfi -i testsrc=size=160x120:rate=10:duration=2 -pix_fmt yuv420p clip.mp4
	run field clip.mp4 '[.mime_type, .width, .height, .duration_ms, (.streams | map([.kind, .codec, .width, .height, .frame_rate]))]'
	assert_success
	assert_output '["video/mp4",160,120,2000,[["video","h264",160,120,10]]]'
	tk-media clip.mp4 | valid
}

@test "text, an empty file and unknown bytes are described, not errors" {
	printf 'hello\n' >hello.txt
	: >empty
	printf '\x00\x01\x02\x03\xfe\xff%.0s' $(seq 100) >blob
	run --separate-stderr tk-media hello.txt empty blob
	assert_success
	assert_equal "$stderr" ""
	echo "$output" | valid
	assert_equal "$(jq -c '[.mime_type, .encoding, .size, .error]' <<<"$output")" \
	    "$(printf '%s\n' '["text/plain","us-ascii",6,null]' '["application/x-empty","binary",0,null]' '["application/octet-stream","binary",600,null]')"
	assert_equal "$(jq -sr '.[1].sha256' <<<"$output")" e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
}

@test "a missing file: its record with the error, the others described, exit 66" {
	printf 'x' >here
	run --separate-stderr tk-media gone here
	assert_failure 66
	assert_equal "$stderr" "tk-media: gone: No such file or directory"
	echo "$output" | valid
	assert_equal "$(jq -c '[.path, .error, .size]' <<<"$output")" \
	    "$(printf '%s\n' '["gone","No such file or directory",null]' '["here",null,1]')"
}

@test "a directory, a FIFO and a device are reported without being opened" {
	mkdir dir
	mkfifo fifo
	ln -s fifo link
	run --separate-stderr timeout 10 tk-media dir fifo link /dev/null
	assert_success
	echo "$output" | valid
	assert_equal "$(jq -c '[.path, .mime_type, .size, .sha256]' <<<"$output")" \
	    "$(printf '%s\n' '["dir","inode/directory",null,null]' '["fifo","inode/fifo",null,null]' '["link","inode/fifo",null,null]' '["/dev/null","inode/chardevice",null,null]')"
}

@test "symbolic links are followed; a dangling one is missing" {
	printf 'hello\n' >hello.txt
	ln -s hello.txt good
	ln -s nowhere bad
	run --separate-stderr tk-media good bad
	assert_failure 66
	assert_equal "$stderr" "tk-media: bad: No such file or directory"
	assert_equal "$(jq -c '[.path, .mime_type, .size, .error]' <<<"$output")" \
	    "$(printf '%s\n' '["good","text/plain",6,null]' '["bad",null,null,"No such file or directory"]')"
}

@test "an unreadable file: its record with the error, exit 66" {
	if [ "$(id -u)" = 0 ]; then
		# root reads every file: run as nobody, in a directory it
		# can reach.
		command -v setpriv >/dev/null || skip "root, and no setpriv to drop it"
		dir=$(mktemp -d /tmp/tk-media.XXXXXX)
		chmod 755 "$dir"
		printf 'secret' >"$dir/secret"
		chmod 000 "$dir/secret"
		run --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups \
		    "$AU_BIN/tk-media" "$dir/secret"
		rm -rf "$dir"
		assert_failure 66
		assert_equal "$stderr" "tk-media: $dir/secret: Permission denied"
	else
		printf 'secret' >secret
		chmod 000 secret
		run --separate-stderr tk-media secret
		assert_failure 66
		assert_equal "$stderr" "tk-media: secret: Permission denied"
	fi
	assert_equal "$(jq -c '[.error, .size, .sha256]' <<<"$output")" '["Permission denied",null,null]'
}

@test "truncated media: type, size and hash, with the error, exit 65" {
	ffmpeg -loglevel error -f lavfi -i testsrc=size=160x120:rate=10:duration=2 -pix_fmt yuv420p clip.mp4
	head -c 3000 clip.mp4 >cut.mp4
	sox -n -r 8000 -b 16 -c 1 tone.wav synth 1 sine 440
	run --separate-stderr tk-media cut.mp4 tone.wav
	assert_failure 65
	assert_equal "$stderr" "tk-media: cut.mp4: unreadable media: Invalid data found when processing input"
	echo "$output" | valid
	assert_equal "$(jq -sc '.[0] | [.mime_type, .size, .error, .duration_ms]' <<<"$output")" \
	    '["video/mp4",3000,"unreadable media: Invalid data found when processing input",null]'
	assert_equal "$(jq -sr '.[0].sha256' <<<"$output")" "$(sha256sum cut.mp4 | cut -d' ' -f1)"
	assert_equal "$(jq -sc '.[1].duration_ms' <<<"$output")" 1000
	# A PNG header and nothing else.
	convert -size 64x48 xc:red red.png
	head -c 40 red.png >cut.png
	run --separate-stderr tk-media cut.png
	assert_failure 65
	assert_equal "$(jq -c '[.mime_type, .width]' <<<"$output")" '["image/png",null]'
	assert_equal "$(jq -r .error <<<"$output")" "unreadable media: no picture"
	assert_equal "$stderr" "tk-media: cut.png: unreadable media: no picture"
}

@test "a bad file and a missing one: 65 wins over 66" {
	convert -size 64x48 xc:red red.png
	head -c 40 red.png >bad.png
	run --separate-stderr tk-media gone bad.png
	assert_failure 65
	assert_equal "$(jq -c .path <<<"$output" | paste -sd,)" '"gone","bad.png"'
}

@test "a name that is not UTF-8: U+FFFD in path, the bytes in path_hex" {
	printf 'hi\n' >"$(printf 'caf\351.txt')"
	run --separate-stderr tk-media "$(printf 'caf\351.txt')"
	assert_success
	echo "$output" | valid
	assert_equal "$(jq -c '[.path, .path_hex, .size]' <<<"$output")" '["caf�.txt","636166e92e747874",3]'
	assert_equal "$(tk-media "$(printf 'caf\351.txt')" | jq -r .path_hex | xxd -r -p)" \
	    "$(printf 'caf\351.txt')"
}

@test "with no operands the names come from standard input, one a line" {
	printf 'a\n' >a
	printf 'bb\n' >b
	run --separate-stderr tk-media <<<"$(printf 'a\n\nb\nc\n')"
	assert_failure 66
	assert_equal "$stderr" "tk-media: c: No such file or directory"
	assert_equal "$(jq -c '[.path, .size]' <<<"$output")" \
	    "$(printf '%s\n' '["a",2]' '["b",3]' '["c",null]')"
}

@test "-v notes each file; a bad option is a usage error" {
	printf 'a\n' >a
	run --separate-stderr tk-media -v a
	assert_success
	assert_regex "$stderr" '^tk-media: a: [0-9]+ ms$'
	run --separate-stderr tk-media --frobnicate
	assert_failure 64
	assert_equal "${stderr%%$'\n'*}" 'tk-media: unknown option "--frobnicate"'
}

@test "a full disk is an I/O error, exit 74" {
	[ -w /dev/full ] || skip "no /dev/full"
	printf 'a\n' >a
	run bash -c 'tk-media a >/dev/full'
	assert_failure 74
}
