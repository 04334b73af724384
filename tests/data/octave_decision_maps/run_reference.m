% Reference outputs of Image Processing functions used by the DSIFT/MWGF/IMF code.
pkg load image
m = imread('mask.png') > 0;
imwrite(uint8(medfilt2(double(m), [8 8]) * 255), 'medfilt2_8x8.png');   % 0, 0.5 or 1 -> 0, 127.5, 255
imwrite(uint8(medfilt2(double(m), [3 3]) * 255), 'medfilt2_3x3.png');
imwrite(uint8(bwareaopen(m, 12)) * 255, 'bwareaopen_12.png');
imwrite(uint8(imerode(m, strel('square', 6))) * 255, 'imerode_square6.png');
